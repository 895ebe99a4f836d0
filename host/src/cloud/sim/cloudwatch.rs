//! CloudWatch metrics in the sim: the fixture's raw datapoints of a metric (by
//! namespace, name and exact dimensions), aggregated per period over the window.

use super::errors::{Api, Service};
use super::SimCloud;
use crate::cloud::{CallCtx, CloudResult, CloudWatchApi, Datapoint, MetricQuery, Statistic};
use std::collections::BTreeMap;

#[async_trait::async_trait]
impl CloudWatchApi for SimCloud {
    async fn get_metric_statistics(&self, ctx: &CallCtx, q: &MetricQuery) -> CloudResult<Vec<Datapoint>> {
        self.call(Api::new(Service::CloudWatch, "GetMetricStatistics"), |st, api| {
            st.authorize(ctx, api, "*")?;
            let dims: BTreeMap<String, String> = q.dimensions.iter().cloned().collect();
            let Some(metric) = st
                .metrics
                .iter()
                .find(|m| m.namespace == q.namespace && m.metric_name == q.metric_name && m.dimensions == dims)
            else {
                // CloudWatch answers an unknown metric with no datapoints, not an error.
                return Ok(Vec::new());
            };
            let period = u64::from(q.period.max(1));
            let mut buckets: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
            for (t, v) in &metric.datapoints {
                if *t >= q.start_time && *t < q.end_time {
                    let start = q.start_time + (t - q.start_time) / period * period;
                    buckets.entry(start).or_default().push(*v);
                }
            }
            let unit = metric.unit.clone().unwrap_or_else(|| "None".into());
            Ok(buckets
                .into_iter()
                .map(|(timestamp, values)| {
                    let n = values.len() as f64;
                    let value = match q.statistic {
                        Statistic::Sum => values.iter().sum(),
                        Statistic::Average => values.iter().sum::<f64>() / n,
                        Statistic::Maximum => values.iter().copied().fold(f64::MIN, f64::max),
                        Statistic::Minimum => values.iter().copied().fold(f64::MAX, f64::min),
                        Statistic::SampleCount => n,
                    };
                    Datapoint {
                        timestamp,
                        value,
                        unit: if q.statistic == Statistic::SampleCount {
                            "Count".into()
                        } else {
                            unit.clone()
                        },
                    }
                })
                .collect())
        })
        .await
    }
}

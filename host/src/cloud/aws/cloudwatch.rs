//! CloudWatch: metric statistics.

use super::{reply, AwsCloud};
use crate::cloud::{CallCtx, CloudResult, Datapoint, MetricQuery, Statistic};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Statistic as SdkStatistic};

#[async_trait::async_trait]
impl crate::cloud::CloudWatchApi for AwsCloud {
    async fn get_metric_statistics(&self, ctx: &CallCtx, q: &MetricQuery) -> CloudResult<Vec<Datapoint>> {
        let api = self.ctx_api("cloudwatch", "GetMetricStatistics", ctx);
        let statistic = match q.statistic {
            Statistic::Sum => SdkStatistic::Sum,
            Statistic::Average => SdkStatistic::Average,
            Statistic::Maximum => SdkStatistic::Maximum,
            Statistic::Minimum => SdkStatistic::Minimum,
            Statistic::SampleCount => SdkStatistic::SampleCount,
        };
        let dimensions: Vec<Dimension> = q
            .dimensions
            .iter()
            .map(|(name, value)| Dimension::builder().name(name).value(value).build())
            .collect();
        let secs = |s: u64| DateTime::from_secs(i64::try_from(s).unwrap_or(i64::MAX));
        let out = self
            .for_ctx(ctx)
            .cloudwatch()
            .get_metric_statistics()
            .namespace(&q.namespace)
            .metric_name(&q.metric_name)
            .set_dimensions(Some(dimensions))
            .start_time(secs(q.start_time))
            .end_time(secs(q.end_time))
            .period(i32::try_from(q.period).unwrap_or(i32::MAX))
            .statistics(statistic)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let mut points: Vec<Datapoint> = out
            .datapoints()
            .iter()
            .map(|d| Datapoint {
                timestamp: d.timestamp().map(|t| u64::try_from(t.secs()).unwrap_or(0)).unwrap_or(0),
                value: match q.statistic {
                    Statistic::Sum => d.sum(),
                    Statistic::Average => d.average(),
                    Statistic::Maximum => d.maximum(),
                    Statistic::Minimum => d.minimum(),
                    Statistic::SampleCount => d.sample_count(),
                }
                .unwrap_or(0.0),
                unit: d.unit().map(|u| u.as_str().to_string()).unwrap_or_default(),
            })
            .collect();
        // CloudWatch answers datapoints in no particular order.
        points.sort_by_key(|p| p.timestamp);
        Ok(reply(points, &out))
    }
}

//! `cloudwatch`: metric statistics. GetMetricStatistics has no resource-level
//! permissions in IAM: the grant is checked on `*`.

use super::view::CapsCtx;
use super::Answer;
use super::{need, Op};
use crate::bindings::cloudwatch as wit;
use crate::cloud::model as m;

/// The most datapoints CloudWatch answers for one request.
pub const MAX_DATAPOINTS: u64 = 1440;

impl wit::Host for CapsCtx<'_> {
    async fn get_metric_statistics(&mut self, query: wit::MetricQuery) -> Answer<Vec<wit::Datapoint>> {
        const OP: Op = Op {
            service: "cloudwatch",
            operation: "GetMetricStatistics",
        };
        let h = &mut *self.host;
        if query.namespace.is_empty() || query.metric_name.is_empty() {
            return Ok(Err(h.invalid(OP, "*", "a metric query needs a namespace and a metric name".into())));
        }
        if query.period < 60 || !query.period.is_multiple_of(60) {
            return Ok(Err(h.invalid(
                OP,
                "*",
                format!("a period of {} s is not a multiple of 60", query.period),
            )));
        }
        if query.end_time <= query.start_time {
            return Ok(Err(h.invalid(
                OP,
                "*",
                format!("the window ends ({}) before it starts ({})", query.end_time, query.start_time),
            )));
        }
        let points = (query.end_time - query.start_time).div_ceil(u64::from(query.period));
        if points > MAX_DATAPOINTS {
            return Ok(Err(h.invalid(
                OP,
                "*",
                format!(
                    "the window holds {points} periods of {} s; CloudWatch answers at most {MAX_DATAPOINTS} datapoints: raise the period or shorten the window",
                    query.period
                ),
            )));
        }
        let q = m::MetricQuery {
            namespace: query.namespace,
            metric_name: query.metric_name,
            dimensions: query.dimensions,
            start_time: query.start_time,
            end_time: query.end_time,
            period: query.period,
            statistic: match query.statistic {
                wit::Statistic::Sum => m::Statistic::Sum,
                wit::Statistic::Average => m::Statistic::Average,
                wit::Statistic::Maximum => m::Statistic::Maximum,
                wit::Statistic::Minimum => m::Statistic::Minimum,
                wit::Statistic::SampleCount => m::Statistic::SampleCount,
            },
        };
        let points = h
            .checked(OP, &[need(OP, "*")], |c, ctx| async move {
                c.cloudwatch.get_metric_statistics(&ctx, &q).await
            })
            .await;
        Ok(points.map(|v| {
            v.into_iter()
                .map(|p| wit::Datapoint {
                    timestamp: p.timestamp,
                    value: p.value,
                    unit: p.unit,
                })
                .collect()
        }))
    }
}

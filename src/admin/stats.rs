//! Broker statistics: VIEW_BROKER_STATS_DATA (315) and statsAll (StatsAllSubCommand).

use super::{check_name, Admin, Error, Result};
use crate::protocol::admin_body::ConsumeStats;
use crate::protocol::codes::request as rq;
use crate::protocol::command::RemotingCommand;
use crate::protocol::stats_body::BrokerStatsData;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One window of a stats item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StatsItem {
    /// Sum over the window.
    pub sum: i64,
    /// Per second.
    pub tps: f64,
    /// Mean per call.
    pub avgpt: f64,
}

/// VIEW_BROKER_STATS_DATA of one stats name and key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsView {
    /// The last minute.
    pub minute: StatsItem,
    /// The last hour.
    pub hour: StatsItem,
    /// The last day.
    pub day: StatsItem,
}

impl StatsView {
    /// Messages of the last 24 hours as mqadmin's compute24HourSum takes them: the day's sum,
    /// else the hour's, else the minute's.
    pub fn day_sum(&self) -> i64 {
        [self.day.sum, self.hour.sum, self.minute.sum].into_iter().find(|s| *s != 0).unwrap_or(0)
    }
}

/// One row of statsAll.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsAllRow {
    /// Topic.
    pub topic: String,
    /// Consumer group (None: the topic has no consumer).
    pub group: Option<String>,
    /// Messages not consumed yet by the group.
    pub accumulation: i64,
    /// Messages in per second (last minute, summed over masters).
    pub in_tps: f64,
    /// Messages out per second to the group (last minute).
    pub out_tps: f64,
    /// Messages in during the last 24 hours.
    pub in_msg_24h: i64,
    /// Messages out to the group during the last 24 hours.
    pub out_msg_24h: i64,
}

fn item(i: crate::protocol::stats_body::BrokerStatsItem) -> StatsItem {
    StatsItem { sum: i.sum, tps: i.tps, avgpt: i.avgpt }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct GroupList {
    #[serde(default)]
    group_list: BTreeSet<String>,
}

impl Admin {
    /// VIEW_BROKER_STATS_DATA: `stats_name` (TOPIC_PUT_NUMS, GROUP_GET_NUMS, BROKER_PUT_NUMS,
    /// ...) for `stats_key` (a topic, `topic@group`, a cluster name) on one broker.
    pub fn view_broker_stats(
        &self,
        addr: &str,
        stats_name: &str,
        stats_key: &str,
    ) -> Result<StatsView> {
        let req = RemotingCommand::request(rq::VIEW_BROKER_STATS_DATA)
            .with("statsName", stats_name)
            .with("statsKey", stats_key);
        let r = self.call(addr, req)?;
        let d = BrokerStatsData::decode(&r.body)
            .map_err(|e| Error::bad_answer("broker stats", addr, e))?;
        Ok(StatsView {
            minute: item(d.stats_minute),
            hour: item(d.stats_hour),
            day: item(d.stats_day),
        })
    }

    /// QUERY_TOPIC_CONSUME_BY_WHO on the topic's masters: the groups consuming it.
    pub fn topic_consumers(&self, topic: &str) -> Result<BTreeSet<String>> {
        let route = self.route(topic)?;
        let mut groups = BTreeSet::new();
        for b in &route.broker_datas {
            let Some(addr) = b.broker_addrs.get(&0) else { continue };
            let req = RemotingCommand::request(rq::QUERY_TOPIC_CONSUME_BY_WHO).with("topic", topic);
            let r = self.call(addr, req)?;
            let g: GroupList = crate::protocol::json::from_fastjson(&r.body)
                .map_err(|e| Error::bad_answer("group list", addr, e))?;
            groups.extend(g.group_list);
        }
        Ok(groups)
    }

    /// statsAll: per topic (not %RETRY%/%DLQ%) and consumer group, the accumulation and the
    /// in/out rates. `topic` selects one; `active_only` drops rows with no traffic today.
    /// Figures a broker cannot give count as 0, as in mqadmin.
    pub fn stats_all(&self, topic: Option<&str>, active_only: bool) -> Result<Vec<StatsAllRow>> {
        if let Some(t) = topic {
            check_name("topic", t)?;
        }
        let mut rows = Vec::new();
        for t in self.topic_list()? {
            if t.starts_with("%RETRY%") || t.starts_with("%DLQ%") {
                continue;
            }
            if topic.is_some_and(|sel| sel != t) {
                continue;
            }
            let Ok(route) = self.route(&t) else { continue };
            let masters: Vec<String> =
                route.broker_datas.iter().filter_map(|b| b.broker_addrs.get(&0).cloned()).collect();
            let (mut in_tps, mut in_24h) = (0.0, 0i64);
            for m in &masters {
                if let Ok(v) = self.view_broker_stats(m, "TOPIC_PUT_NUMS", &t) {
                    in_tps += v.minute.tps;
                    in_24h += v.day_sum();
                }
            }
            let groups = self.topic_consumers(&t).unwrap_or_default();
            if groups.is_empty() {
                if !active_only || in_24h > 0 {
                    rows.push(StatsAllRow {
                        topic: t.clone(),
                        group: None,
                        accumulation: 0,
                        in_tps,
                        out_tps: 0.0,
                        in_msg_24h: in_24h,
                        out_msg_24h: 0,
                    });
                }
                continue;
            }
            for g in groups {
                let (mut out_tps, mut out_24h) = (0.0, 0i64);
                let key = format!("{t}@{g}");
                let mut accumulation = 0;
                for m in &masters {
                    if let Ok(v) = self.view_broker_stats(m, "GROUP_GET_NUMS", &key) {
                        out_tps += v.minute.tps;
                        out_24h += v.day_sum();
                    }
                    let req = RemotingCommand::request(rq::GET_CONSUME_STATS)
                        .with("consumerGroup", &g)
                        .with("topic", &t);
                    if let Ok(r) = self.call(m, req) {
                        if let Ok(s) = ConsumeStats::decode(&r.body) {
                            accumulation += s.total_lag();
                        }
                    }
                }
                if !active_only || in_24h > 0 || out_24h > 0 {
                    rows.push(StatsAllRow {
                        topic: t.clone(),
                        group: Some(g),
                        accumulation,
                        in_tps,
                        out_tps,
                        in_msg_24h: in_24h,
                        out_msg_24h: out_24h,
                    });
                }
            }
        }
        if let Some(t) = topic {
            if rows.is_empty() && !active_only {
                return Err(Error::not_found(format!("topic {t} not found")));
            }
        }
        Ok(rows)
    }
}

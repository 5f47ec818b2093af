//! Which input offsets are in flight and which may be committed.
//!
//! Records of one partition may be acknowledged out of order (a dead letter before an earlier output,
//! say), so the offset committed for a partition is the lowest one still in flight, or one past the
//! highest acknowledged when none is: never past an unacknowledged message.
use std::collections::{BTreeSet, HashMap};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A topic partition.
pub type TopicPartition = (String, i32);

#[derive(Debug, Default)]
struct PartitionLedger {
    in_flight: BTreeSet<i64>,
    /// One past the highest acknowledged offset.
    acknowledged_end: Option<i64>,
    /// The offset last committed (or handed to a commit), to skip commits that change nothing.
    committed: Option<i64>,
}

impl PartitionLedger {
    fn commit_offset(&self) -> Option<i64> {
        self.in_flight.first().copied().or(self.acknowledged_end)
    }
}

/// In-flight and acknowledged offsets of every assigned partition, shared by the consumer thread, the
/// delivery tasks and the rebalance callback.
#[derive(Debug, Default)]
pub struct OffsetLedger {
    partitions: Mutex<HashMap<TopicPartition, PartitionLedger>>,
    changed: Condvar,
}

impl OffsetLedger {
    fn lock(&self) -> MutexGuard<'_, HashMap<TopicPartition, PartitionLedger>> {
        self.partitions.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records that `offset` of `topic`/`partition` was read and is now in flight.
    pub fn register(&self, topic: &str, partition: i32, offset: i64) {
        self.lock().entry((topic.to_string(), partition)).or_default().in_flight.insert(offset);
    }

    /// Records that the output (or dead-letter record) of `offset` was acknowledged. Offsets of
    /// partitions forgotten since (revoked) are ignored.
    pub fn acknowledge(&self, topic: &str, partition: i32, offset: i64) {
        let mut partitions = self.lock();
        if let Some(ledger) = partitions.get_mut(&(topic.to_string(), partition)) {
            if ledger.in_flight.remove(&offset) {
                ledger.acknowledged_end = Some(ledger.acknowledged_end.unwrap_or(0).max(offset + 1));
            }
        }
        drop(partitions);
        self.changed.notify_all();
    }

    /// Messages read and not yet acknowledged, over all partitions.
    pub fn in_flight(&self) -> usize {
        self.lock().values().map(|p| p.in_flight.len()).sum()
    }

    /// The offsets to commit now: for each partition (of `only`, when given) whose commit offset moved
    /// since the last call, the lowest in-flight offset or one past the highest acknowledged.
    pub fn offsets_to_commit(&self, only: Option<&[TopicPartition]>) -> Vec<(TopicPartition, i64)> {
        let mut partitions = self.lock();
        let mut offsets = Vec::new();
        for (tp, ledger) in partitions.iter_mut() {
            if only.is_some_and(|only| !only.contains(tp)) {
                continue;
            }
            if let Some(offset) = ledger.commit_offset() {
                if ledger.committed != Some(offset) {
                    ledger.committed = Some(offset);
                    offsets.push((tp.clone(), offset));
                }
            }
        }
        offsets.sort();
        offsets
    }

    /// Waits until none of `partitions` has a message in flight, or `timeout` passes; returns how many
    /// are still in flight.
    pub fn wait_drained(&self, partitions: &[TopicPartition], timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let mut guard = self.lock();
        loop {
            let left: usize = partitions.iter().filter_map(|tp| guard.get(tp)).map(|p| p.in_flight.len()).sum();
            let now = Instant::now();
            if left == 0 || now >= deadline {
                return left;
            }
            guard = self.changed.wait_timeout(guard, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Drops the state of revoked partitions: their later acknowledgements are ignored, and their next
    /// owner starts from the committed offset.
    pub fn forget(&self, partitions: &[TopicPartition]) {
        let mut guard = self.lock();
        for tp in partitions {
            guard.remove(tp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        ("in".to_string(), p)
    }

    #[test]
    fn never_commits_past_an_unacknowledged_offset() {
        let ledger = OffsetLedger::default();
        for offset in 10..14 {
            ledger.register("in", 0, offset);
        }
        ledger.register("in", 1, 5);
        ledger.acknowledge("in", 0, 11);
        ledger.acknowledge("in", 0, 12);
        // 10 is still in flight: partition 0 stays at 10, partition 1 at 5.
        assert_eq!(ledger.offsets_to_commit(None), vec![(tp(0), 10), (tp(1), 5)]);
        assert_eq!(ledger.offsets_to_commit(None), vec![], "nothing moved since");
        ledger.acknowledge("in", 0, 10);
        assert_eq!(ledger.offsets_to_commit(None), vec![(tp(0), 13)]);
        ledger.acknowledge("in", 0, 13);
        ledger.acknowledge("in", 1, 5);
        assert_eq!(ledger.offsets_to_commit(Some(&[tp(1)])), vec![(tp(1), 6)]);
        assert_eq!(ledger.offsets_to_commit(None), vec![(tp(0), 14)]);
        assert_eq!(ledger.in_flight(), 0);
    }

    #[test]
    fn draining_waits_for_acknowledgements_from_another_thread() {
        let ledger = std::sync::Arc::new(OffsetLedger::default());
        ledger.register("in", 0, 1);
        ledger.register("in", 2, 1);
        let acker = {
            let ledger = ledger.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                ledger.acknowledge("in", 0, 1);
            })
        };
        assert_eq!(ledger.wait_drained(&[tp(0)], Duration::from_secs(10)), 0);
        acker.join().unwrap();
        assert_eq!(ledger.wait_drained(&[tp(2)], Duration::from_millis(20)), 1, "times out");
        ledger.forget(&[tp(2)]);
        ledger.acknowledge("in", 2, 1);
        assert_eq!(ledger.offsets_to_commit(None), vec![(tp(0), 2)]);
    }
}

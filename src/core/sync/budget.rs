//! What one sync run may spend: a Worker invocation may make at most 1,000
//! subrequests, and every KV get, put and delete and every origin call is
//! one (a KV bulk read of up to 100 keys counts once). The job counts each
//! before making it and stops when the next one would not fit; the rest
//! waits for the next run.

/// Most KV operations per run a setting may allow, keeping room below the
/// platform's 1,000 subrequests for origin calls.
pub const MAX_KV_OPS: u32 = 900;

/// Most origin calls per run a setting may allow (`MAX_KV_OPS` plus this
/// is the platform's 1,000).
pub const MAX_ORIGIN_CALLS: u32 = 100;

/// Fewest KV operations a run can do anything with: read the cursor, read
/// a page's keys, write one change, save the cursor.
pub const MIN_KV_OPS: u32 = 4;

/// The limits of one sync run (`SYNC_MAX_KV_OPS`, `SYNC_MAX_ORIGIN_CALLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncLimits {
    /// Most KV operations (gets, bulk gets, puts, deletes; the cursor's too).
    pub max_kv_ops: u32,
    /// Most origin calls (pages of the change feed).
    pub max_origin_calls: u32,
}

impl Default for SyncLimits {
    fn default() -> Self {
        SyncLimits { max_kv_ops: 500, max_origin_calls: 10 }
    }
}

/// The operations one run has spent, against its limits. One KV operation
/// stays reserved for saving the cursor at the end.
#[derive(Debug)]
pub struct Budget {
    limits: SyncLimits,
    kv_ops: u32,
    origin_calls: u32,
}

impl Budget {
    /// Nothing spent yet.
    pub fn new(limits: SyncLimits) -> Budget {
        Budget { limits, kv_ops: 0, origin_calls: 0 }
    }

    /// Takes `n` KV operations if they fit besides the cursor's save.
    pub fn take_kv(&mut self, n: u32) -> bool {
        self.fits_kv(n.saturating_add(1)) && self.spend_kv(n)
    }

    /// How many KV operations are left besides the cursor's save.
    pub fn kv_left(&self) -> u32 {
        self.limits.max_kv_ops.saturating_sub(self.kv_ops).saturating_sub(1)
    }

    /// Takes the operation kept for saving the cursor.
    pub fn take_cursor_save(&mut self) -> bool {
        self.fits_kv(1) && self.spend_kv(1)
    }

    /// Returns `n` KV operations taken but not made (kept for a write that
    /// turned out smaller), so the report counts what was made.
    pub fn give_back_kv(&mut self, n: u32) {
        self.kv_ops = self.kv_ops.saturating_sub(n);
    }

    /// Takes one origin call if it fits.
    pub fn take_origin_call(&mut self) -> bool {
        if self.origin_calls >= self.limits.max_origin_calls {
            return false;
        }
        self.origin_calls += 1;
        true
    }

    /// KV operations spent.
    pub fn kv_ops(&self) -> u32 {
        self.kv_ops
    }

    /// Origin calls spent.
    pub fn origin_calls(&self) -> u32 {
        self.origin_calls
    }

    fn fits_kv(&self, n: u32) -> bool {
        self.kv_ops.saturating_add(n) <= self.limits.max_kv_ops
    }

    fn spend_kv(&mut self, n: u32) -> bool {
        self.kv_ops += n;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_kv_operation_stays_kept_for_the_cursor() {
        let mut budget = Budget::new(SyncLimits { max_kv_ops: 4, max_origin_calls: 1 });
        assert!(budget.take_kv(2));
        assert_eq!(budget.kv_left(), 1);
        assert!(!budget.take_kv(2), "would leave nothing for the cursor");
        assert!(budget.take_kv(1));
        assert!(!budget.take_kv(1));
        assert!(budget.take_cursor_save());
        assert!(!budget.take_cursor_save());
        assert_eq!(budget.kv_ops(), 4);
        assert!(budget.take_origin_call());
        assert!(!budget.take_origin_call());
        assert_eq!(budget.origin_calls(), 1);
    }
}

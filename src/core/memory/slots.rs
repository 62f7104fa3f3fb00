//! The entries of isolate memory: a slab of slots threaded by a recency
//! list.
//!
//! Why a slab: each entry is one slot of a `Vec`, and the recency order is
//! a doubly linked list through the slots by number (`prev`/`next` as
//! `u32`), so a hit moves an entry to the front in O(1) with no allocation,
//! the least recently used entry is the list's tail, and a removed entry's
//! slot goes on a free list for the next insert. That replaces a B-tree
//! index (and its node slack) per ordering with 8 bytes per entry.

use super::index::MAX_SLOTS;

/// No slot (the end of a list).
pub(super) const NIL: u32 = u32::MAX;

/// One slot: an entry, or a link in the free list.
struct Slot<E> {
    entry: Option<E>,
    /// Towards the more recently used (occupied) or unused.
    prev: u32,
    /// Towards the less recently used (occupied) or the next free slot.
    next: u32,
}

/// Entries by slot number, in recency order.
pub(super) struct Slots<E> {
    slots: Vec<Slot<E>>,
    /// Most recently used.
    head: u32,
    /// Least recently used.
    tail: u32,
    /// First free slot.
    free: u32,
    len: usize,
}

impl<E> Slots<E> {
    /// No slots (allocates nothing until the first push).
    pub(super) fn new() -> Self {
        Slots { slots: Vec::new(), head: NIL, tail: NIL, free: NIL, len: 0 }
    }

    /// Stores `entry` as the most recently used; returns its slot, or
    /// gives the entry back when all `MAX_SLOTS` slots are taken.
    /// `room` is how many entries may be held at most: the slab grows by
    /// half (not double) and never past it, so a bounded cache's slab
    /// ends exactly at its bound.
    pub(super) fn push(&mut self, entry: E, room: usize) -> Result<u32, E> {
        let at = if self.free != NIL {
            let at = self.free;
            let Some(slot) = self.slots.get_mut(at as usize) else { return Err(entry) };
            self.free = slot.next;
            slot.entry = Some(entry);
            at
        } else {
            if self.slots.len() >= MAX_SLOTS {
                return Err(entry);
            }
            if self.slots.len() == self.slots.capacity() {
                let len = self.slots.len();
                let cap = room.clamp(1, MAX_SLOTS);
                let extra = (len / 2).max(8).min(cap.saturating_sub(len)).max(1);
                self.slots.reserve_exact(extra);
            }
            self.slots.push(Slot { entry: Some(entry), prev: NIL, next: NIL });
            (self.slots.len() - 1) as u32
        };
        self.link_front(at);
        self.len += 1;
        Ok(at)
    }

    /// Takes the entry out of `at`, freeing the slot.
    pub(super) fn take(&mut self, at: u32) -> Option<E> {
        let entry = self.slots.get_mut(at as usize)?.entry.take()?;
        self.unlink(at);
        if let Some(slot) = self.slots.get_mut(at as usize) {
            slot.prev = NIL;
            slot.next = self.free;
            self.free = at;
        }
        self.len -= 1;
        Some(entry)
    }

    /// Marks `at` as the most recently used.
    pub(super) fn touch(&mut self, at: u32) {
        if self.head != at && self.get(at).is_some() {
            self.unlink(at);
            self.link_front(at);
        }
    }

    /// The entry in `at`.
    pub(super) fn get(&self, at: u32) -> Option<&E> {
        self.slots.get(at as usize)?.entry.as_ref()
    }

    /// The entry in `at`, to change in place.
    pub(super) fn get_mut(&mut self, at: u32) -> Option<&mut E> {
        self.slots.get_mut(at as usize)?.entry.as_mut()
    }

    /// Every entry held, to change in place (slot order, not recency).
    pub(super) fn entries_mut(&mut self) -> impl Iterator<Item = &mut E> + '_ {
        self.slots.iter_mut().filter_map(|slot| slot.entry.as_mut())
    }

    /// The least recently used slot.
    pub(super) fn oldest(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// Number of slots, occupied or free (what a sweep walks over).
    pub(super) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Number of entries held.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Drops every entry, keeping the allocation.
    pub(super) fn clear(&mut self) {
        self.slots.clear();
        self.head = NIL;
        self.tail = NIL;
        self.free = NIL;
        self.len = 0;
    }

    /// The occupied slots from most to least recently used.
    #[cfg(test)]
    pub(super) fn by_recency(&self) -> Vec<u32> {
        let mut order = Vec::new();
        let mut at = self.head;
        while at != NIL {
            order.push(at);
            at = self.slots[at as usize].next;
        }
        order
    }

    fn link_front(&mut self, at: u32) {
        let old_head = self.head;
        if let Some(slot) = self.slots.get_mut(at as usize) {
            slot.prev = NIL;
            slot.next = old_head;
        }
        match self.slots.get_mut(old_head as usize) {
            Some(slot) => slot.prev = at,
            None => self.tail = at,
        }
        self.head = at;
    }

    fn unlink(&mut self, at: u32) {
        let Some(slot) = self.slots.get(at as usize) else { return };
        let (prev, next) = (slot.prev, slot.next);
        match self.slots.get_mut(prev as usize) {
            Some(slot) => slot.next = next,
            None => self.head = next,
        }
        match self.slots.get_mut(next as usize) {
            Some(slot) => slot.prev = prev,
            None => self.tail = prev,
        }
    }
}

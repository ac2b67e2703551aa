//! UUID v4 event ids from one OS random read per batch, instead of one per event.

pub struct EventIds {
    bytes: Vec<u8>,
    next: usize,
}

impl EventIds {
    pub fn for_batch(n: usize) -> Self {
        // Most commands yield one event; refill if a batch needs more.
        let mut bytes = vec![0u8; 16 * n.max(1)];
        Self::fill(&mut bytes);
        EventIds { bytes, next: 0 }
    }

    fn fill(bytes: &mut [u8]) {
        if getrandom::getrandom(bytes).is_err() {
            // Ids only need to be unique, not secret: fall back to uuid's own generator.
            for chunk in bytes.chunks_mut(16) {
                chunk.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..chunk.len()]);
            }
        }
    }

    pub fn next_id(&mut self) -> String {
        if self.next + 16 > self.bytes.len() {
            Self::fill(&mut self.bytes);
            self.next = 0;
        }
        let mut b = [0u8; 16];
        b.copy_from_slice(&self.bytes[self.next..self.next + 16]);
        self.next += 16;
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }
}

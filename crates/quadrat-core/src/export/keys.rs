//! The export's lookup tables keyed by refs (answer slots by input ref, labels by answer ref):
//! looked up for every answer of every row, so they hash with a word-at-a-time multiply-rotate
//! hash instead of SipHash. Their keys come from the project's definition, never from a request,
//! so a hash that is cheap to collide on purpose costs nothing here: a lookup of any key walks
//! at most the definition's few keys.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A table keyed by refs of the definition.
pub(crate) type KeyMap<V> = HashMap<String, V, BuildHasherDefault<RefHasher>>;

/// The FxHash step (rustc's): rotate, xor a word, multiply.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RefHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl RefHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for RefHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_key_and_no_other() {
        let refs: Vec<String> = (0..300).map(|i| format!("abc_{i:013}")).collect();
        let map: KeyMap<usize> = refs.iter().cloned().zip(0..).collect();
        for (i, r) in refs.iter().enumerate() {
            assert_eq!(map.get(r), Some(&i));
        }
        assert_eq!(map.get("abc_"), None);
        assert_eq!(map.get(""), None);
    }
}

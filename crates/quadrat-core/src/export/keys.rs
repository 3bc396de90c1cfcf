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

/// The answer slots of an export: input ref → slot, and the refs in slot order, which is the
/// definition's order, the order the apps store answers in. The reader guesses each stored key
/// is the next ref and checks it by comparison, before it falls back to reading and looking up.
#[derive(Debug, Default, Clone)]
pub(crate) struct AnswerSlots {
    by_ref: KeyMap<usize>,
    /// Refs by slot; `None` for a ref that is not written plain in JSON (never guessed).
    in_order: Vec<Option<String>>,
}

impl AnswerSlots {
    /// `input_ref`'s slot, a new one (the next number) the first time.
    pub(crate) fn insert(&mut self, input_ref: &str) -> usize {
        if let Some(&slot) = self.by_ref.get(input_ref) {
            return slot;
        }
        let slot = self.in_order.len();
        self.by_ref.insert(input_ref.to_owned(), slot);
        let plain = super::jsonw::is_plain_json(input_ref);
        self.in_order.push(plain.then(|| input_ref.to_owned()));
        slot
    }

    pub(crate) fn get(&self, input_ref: &str) -> Option<usize> {
        self.by_ref.get(input_ref).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.in_order.len()
    }

    /// The ref of `slot`, when it can be matched against stored text byte for byte.
    pub(crate) fn plain_ref(&self, slot: usize) -> Option<&str> {
        self.in_order.get(slot)?.as_deref()
    }
}

#[cfg(test)]
impl FromIterator<&'static str> for AnswerSlots {
    fn from_iter<I: IntoIterator<Item = &'static str>>(refs: I) -> AnswerSlots {
        let mut slots = AnswerSlots::default();
        for r in refs {
            slots.insert(r);
        }
        slots
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

    #[test]
    fn answer_slots_number_refs_in_first_order_and_guess_only_plain_ones() {
        let slots: AnswerSlots = ["a_1", "b\"2", "a_1", "c_3"].into_iter().collect();
        assert_eq!(slots.len(), 3);
        assert_eq!(
            (slots.get("a_1"), slots.get("b\"2"), slots.get("c_3")),
            (Some(0), Some(1), Some(2))
        );
        assert_eq!(slots.get("d"), None);
        assert_eq!(
            (0..4).map(|s| slots.plain_ref(s)).collect::<Vec<_>>(),
            [Some("a_1"), None, Some("c_3"), None]
        );
    }
}

//! Reading a record buffer: entries, then the typed values of one entry.
//!
//! Every reader tolerates any byte sequence: a malformed buffer ends iteration early instead of
//! panicking (records are only built by `encode`, but the readers do not rely on it).

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::tags;
use crate::catalog::{AttrId, attrs};
use crate::codec::{get_varint, unzigzag};
use crate::interner::{Interner, Sym};

/// One attribute's values: `buf[start..end]` of one section of the record.
#[derive(Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub attr: AttrId,
    /// The section (own entries or shape) the entry lives in; `DUP` offsets are relative to it.
    pub buf: &'a [u8],
    pub start: usize,
    pub end: usize,
}

/// A forward cursor over one sorted section.
#[derive(Clone)]
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn take(&mut self) -> Option<Entry<'a>> {
        let &a = self.buf.get(self.pos)?;
        let mut pos = self.pos + 1;
        let len = get_varint(self.buf, &mut pos).and_then(|l| usize::try_from(l).ok());
        let Some(end) = len
            .and_then(|l| pos.checked_add(l))
            .filter(|&e| e <= self.buf.len())
        else {
            self.pos = self.buf.len();
            return None;
        };
        self.pos = end;
        Some(Entry {
            attr: AttrId(a),
            buf: self.buf,
            start: pos,
            end,
        })
    }

    fn seek(&mut self, attr: AttrId) -> Option<Entry<'a>> {
        loop {
            if self.peek()? > attr.0 {
                return None;
            }
            let e = self.take()?;
            if e.attr == attr {
                return Some(e);
            }
        }
    }
}

/// Iterates the entries of a record in attribute order, merging its shape and own sections.
#[derive(Clone)]
pub(crate) struct Entries<'a> {
    shape: Cursor<'a>,
    own: Cursor<'a>,
}

impl<'a> Entries<'a> {
    pub fn new(rec: &'a [u8], interner: &'a Interner) -> Self {
        let (shape, own) = split(rec, interner).unwrap_or_default();
        Entries {
            shape: Cursor { buf: shape, pos: 0 },
            own: Cursor { buf: own, pos: 0 },
        }
    }

    /// The entries of a shape section alone (shapes hold no record-relative values).
    pub fn of_shape(shape: &'a [u8]) -> Self {
        Entries {
            shape: Cursor { buf: shape, pos: 0 },
            own: Cursor { buf: &[], pos: 0 },
        }
    }

    /// The record's own section alone, when its shape is shared: `(shape symbol, entries)`.
    pub fn own_of_shared(rec: &'a [u8]) -> Option<(Sym, Self)> {
        let mut pos = 0;
        let head = get_varint(rec, &mut pos)?;
        let sym = Sym::try_from(head.checked_sub(1)?).ok()?;
        let own = rec.get(pos..)?;
        Some((sym, Entries::of_shape(&[]).with_own(own)))
    }

    fn with_own(mut self, own: &'a [u8]) -> Self {
        self.own = Cursor { buf: own, pos: 0 };
        self
    }

    /// Advances to the entry of `attr`, consuming entries before it. Sections are sorted, so
    /// calls with increasing `attr` make one pass over the record.
    pub fn seek(&mut self, attr: AttrId) -> Option<Entry<'a>> {
        // An attribute lives in exactly one section.
        self.shape.seek(attr).or_else(|| self.own.seek(attr))
    }
}

/// `(shape section, own section)` of a record buffer.
fn split<'a>(buf: &'a [u8], interner: &'a Interner) -> Option<(&'a [u8], &'a [u8])> {
    let mut pos = 0;
    let head = get_varint(buf, &mut pos)?;
    if head == 0 {
        let len = usize::try_from(get_varint(buf, &mut pos)?).ok()?;
        let end = pos.checked_add(len).filter(|&e| e <= buf.len())?;
        Some((&buf[pos..end], &buf[end..]))
    } else {
        let shape = interner.shape(Sym::try_from(head - 1).ok()?)?;
        Some((shape, &buf[pos..]))
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        match (self.shape.peek(), self.own.peek()) {
            (Some(a), Some(b)) if a <= b => self.shape.take(),
            (_, Some(_)) => self.own.take(),
            (Some(_), None) => self.shape.take(),
            (None, None) => None,
        }
    }
}

/// The entry of one attribute, if the record has it.
pub(crate) fn find<'a>(rec: &'a [u8], interner: &'a Interner, attr: AttrId) -> Option<Entry<'a>> {
    Entries::new(rec, interner).seek(attr)
}

/// The bytes of the record's shape section and of its own section.
pub(crate) fn section_sizes(rec: &[u8], interner: &Interner) -> (usize, usize) {
    split(rec, interner).map_or((0, 0), |(s, o)| (s.len(), o.len()))
}

/// A string value as stored: a symbol, bytes in the record, an interned prefix with bytes
/// in the record, or derived from other values.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Str<'a> {
    Sym(Sym),
    Bytes(&'a [u8]),
    Prefixed(Sym, &'a [u8]),
    /// `<ProductArn>/<Id>` of the same record (the injected `aws/securityhub/FindingId`).
    FindingId,
}

impl<'a> Str<'a> {
    /// Calls `f` with the value as two byte slices whose concatenation is the value, without
    /// allocating (except for derived values).
    pub fn with_parts<R>(
        self,
        rec: &'a [u8],
        interner: &'a Interner,
        f: impl FnOnce(&[u8], &[u8]) -> R,
    ) -> R {
        match self {
            Str::Sym(s) => f(interner.bytes_of(s).unwrap_or_default(), &[]),
            Str::Bytes(b) => f(b, &[]),
            Str::Prefixed(p, b) => f(interner.bytes_of(p).unwrap_or_default(), b),
            Str::FindingId => f(&self.bytes(rec, interner), &[]),
        }
    }

    /// The value's bytes; allocates for prefixed and derived values.
    pub fn bytes(self, rec: &'a [u8], interner: &'a Interner) -> Cow<'a, [u8]> {
        match self {
            Str::Sym(s) => Cow::Borrowed(interner.bytes_of(s).unwrap_or_default()),
            Str::Bytes(b) => Cow::Borrowed(b),
            Str::Prefixed(p, b) => {
                Cow::Owned([interner.bytes_of(p).unwrap_or_default(), b].concat())
            }
            Str::FindingId => {
                let part = |a| {
                    find(rec, interner, a)
                        .and_then(|e| StrValues::new(e).next())
                        .filter(|s| !matches!(s, Str::FindingId))
                        .map(|s| s.bytes(rec, interner).into_owned())
                        .unwrap_or_default()
                };
                let mut v = part(attrs::PRODUCT_ARN);
                v.push(b'/');
                v.extend_from_slice(&part(attrs::ID));
                Cow::Owned(v)
            }
        }
    }

    /// The value as text (records only hold UTF-8; anything else reads as empty).
    pub fn text(self, rec: &'a [u8], interner: &'a Interner) -> Cow<'a, str> {
        match self.bytes(rec, interner) {
            Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).unwrap_or_default()),
            Cow::Owned(v) => Cow::Owned(String::from_utf8(v).unwrap_or_default()),
        }
    }
}

/// Reads one string value at `*pos` of `buf` (see the layout in `record`). Always inlined:
/// returned through memory, the enum costs a store-forwarding stall per value.
#[inline(always)]
fn read_str<'a>(buf: &'a [u8], pos: &mut usize) -> Option<Str<'a>> {
    let at = *pos;
    let h = get_varint(buf, pos)?;
    let arg = h >> 2;
    match h & 3 {
        tags::STR_SYM => Some(Str::Sym(Sym::try_from(arg).ok()?)),
        tags::STR_INLINE => Some(Str::Bytes(take(buf, pos, arg)?)),
        tags::STR_PREFIXED => {
            let len = get_varint(buf, pos)?;
            Some(Str::Prefixed(
                Sym::try_from(arg).ok()?,
                take(buf, pos, len)?,
            ))
        }
        _ if arg & 1 == tags::EXT_DUP => {
            // Points back at an earlier INLINE header (never forward, never another DUP), so
            // resolving it needs no recursion and cannot loop.
            let mut p = usize::try_from(arg >> 1).ok().filter(|&p| p < at)?;
            let h = get_varint(buf, &mut p)?;
            (h & 3 == tags::STR_INLINE)
                .then(|| take(buf, &mut p, h >> 2))
                .flatten()
                .map(Str::Bytes)
        }
        _ => (arg >> 1 == tags::DERIVED_FINDING_ID).then_some(Str::FindingId),
    }
}

/// Advances `*pos` past one string value without building it.
#[inline]
fn skip_str(buf: &[u8], pos: &mut usize) -> Option<()> {
    let h = get_varint(buf, pos)?;
    let len = match h & 3 {
        tags::STR_INLINE => h >> 2,
        tags::STR_PREFIXED => get_varint(buf, pos)?,
        _ => 0,
    };
    *pos = pos
        .checked_add(usize::try_from(len).ok()?)
        .filter(|&e| e <= buf.len())?;
    Some(())
}

/// Walks a map entry key by key, reading a value only when asked (the map filters' hot loop:
/// most keys do not match and their values are skipped unread).
pub(crate) struct MapCursor<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> MapCursor<'a> {
    pub fn new(e: Entry<'a>) -> Self {
        MapCursor {
            buf: e.buf,
            pos: e.start,
            end: e.end,
        }
    }

    /// The next key; then call exactly one of `value` or `skip_value`.
    #[inline]
    pub fn next_key(&mut self) -> Option<Str<'a>> {
        if self.pos >= self.end {
            return None;
        }
        read_str(self.buf, &mut self.pos).filter(|_| self.pos < self.end)
    }

    #[inline]
    pub fn value(&mut self) -> Option<Str<'a>> {
        read_str(self.buf, &mut self.pos).filter(|_| self.pos <= self.end)
    }

    #[inline]
    pub fn skip_value(&mut self) -> Option<()> {
        skip_str(self.buf, &mut self.pos).filter(|_| self.pos <= self.end)
    }
}

fn take<'a>(buf: &'a [u8], pos: &mut usize, len: u64) -> Option<&'a [u8]> {
    let end = pos
        .checked_add(usize::try_from(len).ok()?)
        .filter(|&e| e <= buf.len())?;
    let b = &buf[*pos..end];
    *pos = end;
    Some(b)
}

macro_rules! value_iter {
    ($name:ident, $item:ty, $read:expr) => {
        pub(crate) struct $name<'a> {
            buf: &'a [u8],
            pos: usize,
            end: usize,
        }

        impl<'a> $name<'a> {
            pub fn new(e: Entry<'a>) -> Self {
                $name {
                    buf: e.buf,
                    pos: e.start,
                    end: e.end,
                }
            }
        }

        impl<'a> Iterator for $name<'a> {
            type Item = $item;

            fn next(&mut self) -> Option<$item> {
                if self.pos >= self.end {
                    return None;
                }
                let read: fn(&'a [u8], &mut usize) -> Option<$item> = $read;
                let v = read(self.buf, &mut self.pos);
                if v.is_none() || self.pos > self.end {
                    self.pos = self.end;
                    return None;
                }
                v
            }
        }
    };
}

value_iter!(StrValues, Str<'a>, read_str);
value_iter!(MapPairs, (Str<'a>, Str<'a>), |b, p| Some((
    read_str(b, p)?,
    read_str(b, p)?
)));
value_iter!(NumValues, f64, read_num);
value_iter!(DateValues, i64, |b, p| get_varint(b, p).map(unzigzag));
value_iter!(IpValues, IpAddr, read_ip);
value_iter!(BoolValues, bool, |b, p| {
    let v = *b.get(*p)?;
    *p += 1;
    Some(v != 0)
});

fn read_num(buf: &[u8], pos: &mut usize) -> Option<f64> {
    let h = get_varint(buf, pos)?;
    if h & 1 == 0 {
        return Some(unzigzag(h >> 1) as f64);
    }
    let bytes: [u8; 8] = buf.get(*pos..*pos + 8)?.try_into().ok()?;
    *pos += 8;
    Some(f64::from_le_bytes(bytes))
}

fn read_ip(buf: &[u8], pos: &mut usize) -> Option<IpAddr> {
    let tag = *buf.get(*pos)?;
    let start = *pos + 1;
    match tag {
        4 => {
            let b: [u8; 4] = buf.get(start..start + 4)?.try_into().ok()?;
            *pos = start + 4;
            Some(IpAddr::V4(Ipv4Addr::from(b)))
        }
        6 => {
            let b: [u8; 16] = buf.get(start..start + 16)?.try_into().ok()?;
            *pos = start + 16;
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

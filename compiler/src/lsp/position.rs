//! Byte offsets to LSP positions and back, in the negotiated encoding.
//!
//! LSP lines end at `\n`, `\r\n` or a lone `\r`, and nowhere else: that is how editors
//! number lines. KDL also ends lines at NEL, VT, FF, U+2028 and U+2029, but an editor shows
//! those as characters inside a line, so here they are ordinary characters of one column
//! (one UTF-16 unit each). Positions a client sends that point past the end of a line, past
//! the end of the text or into the middle of a character are clamped, never trusted.

/// How the client counts columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

/// A line and a column, both from 0, the column in the document's [`Encoding`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

/// Where each line of a text starts.
#[derive(Clone, Debug)]
pub struct LineIndex {
    /// Byte offset of the start of every line; the first is 0.
    starts: Vec<usize>,
    /// Byte offset of the end of every line's content (before its terminator).
    ends: Vec<usize>,
    encoding: Encoding,
    /// Whether the text is all ASCII: then every encoding counts bytes.
    ascii: bool,
}

impl LineIndex {
    pub fn new(text: &str, encoding: Encoding) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut ends = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    ends.push(i);
                    starts.push(i + 1);
                }
                b'\r' => {
                    ends.push(i);
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    starts.push(i + 1);
                }
                _ => {}
            }
            i += 1;
        }
        ends.push(bytes.len());
        LineIndex { starts, ends, encoding, ascii: text.is_ascii() }
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The position of a byte offset (clamped to the text, rounded down to a character).
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        // An offset inside a CRLF terminator belongs to the end of its line.
        let start = self.starts[line];
        let upto = offset.min(self.ends[line]);
        let col = self.width(&text[start..upto]);
        LineCol { line: line as u32, col: col as u32 }
    }

    /// The byte offset of a position; lines past the end give the end of the text, columns
    /// past the end of a line give the end of the line, a column inside a character gives
    /// the start of that character.
    pub fn offset(&self, text: &str, pos: LineCol) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else { return text.len() };
        let end = self.ends[pos.line as usize];
        let line = &text[start..end];
        let want = pos.col as usize;
        if self.ascii || self.encoding == Encoding::Utf8 {
            return start + floor_char_boundary(line, want.min(line.len()));
        }
        let mut units = 0;
        for (i, c) in line.char_indices() {
            let w = self.char_width(c);
            if units + w > want {
                return start + i;
            }
            units += w;
        }
        end
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    fn width(&self, s: &str) -> usize {
        if self.ascii {
            return s.len();
        }
        match self.encoding {
            Encoding::Utf8 => s.len(),
            Encoding::Utf16 => s.chars().map(char::len_utf16).sum(),
            Encoding::Utf32 => s.chars().count(),
        }
    }

    fn char_width(&self, c: char) -> usize {
        match self.encoding {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
            Encoding::Utf32 => 1,
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str, enc: Encoding) {
        let idx = LineIndex::new(text, enc);
        for (i, _) in text.char_indices() {
            let lc = idx.line_col(text, i);
            let back = idx.offset(text, lc);
            // Offsets inside a line terminator map to the line's end.
            assert!(back == i || text[back..i].chars().all(|c| c == '\r' || c == '\n'), "{text:?} at {i}: {lc:?} -> {back}");
        }
    }

    #[test]
    fn lines_end_at_lf_crlf_and_cr_only() {
        let text = "a\r\nb\rc\nd\u{85}e\u{2028}f\u{2029}g\u{b}h\u{c}i";
        let idx = LineIndex::new(text, Encoding::Utf16);
        assert_eq!(idx.line_count(), 4);
        let i = text.find('i').unwrap();
        // NEL, LS, PS, VT and FF are one UTF-16 unit each, inside line 3.
        assert_eq!(idx.line_col(text, i), LineCol { line: 3, col: 10 });
        assert_eq!(idx.line_col(text, text.find('b').unwrap()), LineCol { line: 1, col: 0 });
        assert_eq!(idx.line_col(text, text.find('c').unwrap()), LineCol { line: 2, col: 0 });
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            roundtrip(text, enc);
        }
    }

    #[test]
    fn astral_characters_count_two_utf16_units() {
        let text = "x \"🚀\" y";
        let idx = LineIndex::new(text, Encoding::Utf16);
        let y = text.find('y').unwrap();
        assert_eq!(idx.line_col(text, y), LineCol { line: 0, col: 7 });
        assert_eq!(LineIndex::new(text, Encoding::Utf32).line_col(text, y).col, 6);
        assert_eq!(LineIndex::new(text, Encoding::Utf8).line_col(text, y).col, 9);
        // Column 4 is inside the surrogate pair: it clamps to the character's start.
        assert_eq!(idx.offset(text, LineCol { line: 0, col: 4 }), 3);
        roundtrip(text, Encoding::Utf16);
    }

    #[test]
    fn positions_past_the_end_clamp() {
        let text = "ab\ncd";
        let idx = LineIndex::new(text, Encoding::Utf16);
        assert_eq!(idx.offset(text, LineCol { line: 0, col: 99 }), 2);
        assert_eq!(idx.offset(text, LineCol { line: 9, col: 0 }), 5);
        assert_eq!(idx.line_col(text, 99), LineCol { line: 1, col: 2 });
    }
}

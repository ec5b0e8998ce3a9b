//! What a file looks like, from its first bytes: a spreadsheet or an
//! archive saved under a regimen file's name is named as what it is
//! ("this is a ZIP archive or an Excel (.xlsx) workbook"), not reported as
//! a thousand bad cells.

/// Bytes read from the start of a file to tell what it is.
pub const HEAD_BYTES: usize = 8192;

/// What `head` (the first bytes of a file) shows the file to be, when it
/// is not text: `None` for text (valid or not as UTF-8, which the readers
/// then judge line by line).
///
/// E.g. `PK\x03\x04` (an .xlsx renamed .csv), `%PDF-`, a UTF-16 byte order
/// mark, or any NUL byte.
pub fn binary_kind(head: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a ZIP archive or an Excel (.xlsx) workbook"),
        (b"PK\x05\x06", "an empty ZIP archive"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "an old Excel (.xls) or other Office file",
        ),
        (b"%PDF-", "a PDF document"),
        (b"\x1F\x8B", "a gzip-compressed file"),
        (b"BZh", "a bzip2-compressed file"),
        (b"\xFD7zXZ\x00", "an xz-compressed file"),
        (b"\x28\xB5\x2F\xFD", "a zstd-compressed file"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (b"PAR1", "a Parquet file"),
        (b"SQLite format 3\x00", "an SQLite database"),
        (b"\xFF\xFE", "UTF-16 text (save it as UTF-8)"),
        (b"\xFE\xFF", "UTF-16 text (save it as UTF-8)"),
    ];
    if let Some((_, kind)) = SIGNATURES.iter().find(|(sig, _)| head.starts_with(sig)) {
        return Some(kind);
    }
    // Text never holds NUL; binary formats nearly always do early on.
    head.contains(&0).then_some("binary data, not text")
}

#[cfg(test)]
mod tests {
    use super::binary_kind;

    #[test]
    fn files_are_named_by_their_first_bytes() {
        let cases: [(&[u8], Option<&str>); 8] = [
            (
                b"PK\x03\x04\x14\x00\x06\x00",
                Some("a ZIP archive or an Excel (.xlsx) workbook"),
            ),
            (
                b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00",
                Some("an old Excel (.xls) or other Office file"),
            ),
            (b"%PDF-1.7\n", Some("a PDF document")),
            (b"\x1F\x8B\x08\x00", Some("a gzip-compressed file")),
            (b"PAR1\x15\x04", Some("a Parquet file")),
            (b"id,drug\x00,x", Some("binary data, not text")),
            (b"id,drug,weight_kg\n", None),
            (b"drug: isotr\xe9tinoin\n", None),
        ];
        for (head, want) in cases {
            assert_eq!(binary_kind(head), want, "{head:?}");
        }
        assert_eq!(binary_kind(b""), None);
    }
}

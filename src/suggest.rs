//! "Did you mean" suggestions, shared by every diagnostic that names a choice.

/// The candidate closest to `input`, if it is close enough to be a likely typo.
///
/// Case is ignored for the comparison; the candidate is returned as spelled.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let needle = input.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(&needle, &candidate.to_lowercase());
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.filter(|&(score, _)| score >= 0.8).map(|(_, c)| c)
}

/// `"; did you mean `x`?"` or nothing, for appending to a message.
pub fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(input, candidates).map_or_else(String::new, |c| format!("; did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_typos_and_ignores_strangers() {
        let drugs = ["isotretinoin", "metformin", "accutane"];
        assert_eq!(closest("isotretinoine", drugs), Some("isotretinoin"));
        assert_eq!(closest("Isotretinion", drugs), Some("isotretinoin"));
        assert_eq!(closest("paracetamol", drugs), None);
    }
}

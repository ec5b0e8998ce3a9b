//! "Did you mean" suggestions, shared by every diagnostic that names a choice.

/// Longest input, in bytes, that is compared with the candidates.
const MAX_INPUT: usize = 256;

/// The candidate closest to `input`, if it is close enough to be a likely typo.
///
/// Case is ignored. A candidate qualifies when a few edits (transpositions
/// count as one) turn the input into it, or when it shares a long prefix;
/// the fewest edits win.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Edit distance is quadratic; no name, field or unit is this long, so a
    // longer input is not a typo of one and gets no suggestion.
    if input.len() > MAX_INPUT {
        return None;
    }
    let needle = input.to_lowercase();
    let budget = (needle.chars().count() / 3).max(1);
    let mut best: Option<(usize, f64, &'a str)> = None;
    for candidate in candidates {
        let lower = candidate.to_lowercase();
        let edits = strsim::damerau_levenshtein(&needle, &lower);
        // Ties go to the candidate sharing more letters (so `ue` is `eu`, a
        // transposition, rather than `us`), then to the longer common prefix.
        let similarity =
            shared_letters(&needle, &lower) as f64 + strsim::jaro_winkler(&needle, &lower);
        if edits > budget && strsim::jaro_winkler(&needle, &lower) < 0.9 {
            continue;
        }
        let better = best.is_none_or(|(e, s, _)| edits < e || (edits == e && similarity > s));
        if better {
            best = Some((edits, similarity, candidate));
        }
    }
    best.map(|(_, _, c)| c)
}

fn shared_letters(a: &str, b: &str) -> usize {
    let mut rest: Vec<char> = b.chars().collect();
    a.chars()
        .filter(|c| match rest.iter().position(|r| r == c) {
            Some(i) => {
                rest.swap_remove(i);
                true
            }
            None => false,
        })
        .count()
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
        assert_eq!(closest("ue", ["us", "eu"]), Some("eu"));
        assert_eq!(closest("wieght", ["weight", "age", "sex"]), Some("weight"));
        assert_eq!(closest("Mg", ["mg", "g", "kg"]), Some("mg"));
        assert_eq!(closest("xyz", ["us", "eu"]), None);
    }

    #[test]
    fn long_inputs_get_no_suggestion() {
        // A 4 MB drug name took 22 s to compare; now it is not compared.
        let long = format!("isotretinoin{}", "x".repeat(4 << 20));
        assert_eq!(closest(&long, ["isotretinoin"]), None);
        let name = "a".repeat(257);
        let typo = |n: usize| format!("{}b", "a".repeat(n - 1));
        assert_eq!(closest(&typo(256), [name.as_str()]), Some(name.as_str()));
        assert_eq!(closest(&typo(257), [name.as_str()]), None);
    }
}

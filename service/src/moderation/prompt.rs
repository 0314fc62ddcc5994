//! The prompt gate: `rustrict` plus word lists, matched on whole words after normalisation.
//!
//! Normalisation (what makes "S3X", "n.u.d.e", "ñúdé", "ｎｕｄｅ" and "nuuuude" match "sex" /
//! "nude" while "Scunthorpe", "pegboard" and "cocktail" do not match anything):
//! 1. Unicode NFKD, combining marks dropped, lowercased, common Cyrillic/Greek look-alikes
//!    mapped to Latin;
//! 2. split into word tokens on anything that is not a letter, digit or leet symbol;
//! 3. in tokens that contain a letter, leet digits and symbols become letters (`0→o 1→i 3→e
//!    4→a 5→s 7→t 8→b @→a $→s !→i`); an age such as "14yo" splits into `14` `yo`;
//! 4. runs of three or more single-letter tokens are joined ("n u d e" → "nude");
//! 5. a token with a letter repeated three or more times also matches with runs squeezed.
//!
//! Terms match whole tokens or whole token sequences (phrases); a trailing `*` matches any
//! ending. Never a raw substring: rustrict, too, is asked word by word and a word counts only
//! when rustrict censors all of it. The operator's allowlist removes its phrases before any
//! other matching (including rustrict's), except for the minors rule, which always sees the
//! whole prompt.

use rustrict::{Censor, Type};
use serde_json::json;
use unicode_normalization::UnicodeNormalization;

use super::{Category, Verdict};
use super::policy::{PromptPolicy, Term};

/// Terms about minors (matched whole; `*` = any ending).
const MINOR_TERMS: &[&str] = &[
    "child", "children", "childs", "kid", "kids", "kiddie", "kiddies", "minor", "minors", "underage", "under age",
    "teen", "teens", "teenage", "teenager", "teenagers", "preteen", "preteens", "pre teen", "tween", "tweens",
    "young girl", "young girls", "young boy", "young boys", "little girl", "little girls", "little boy", "little boys",
    "schoolgirl", "schoolgirls", "schoolboy", "schoolboys", "school girl", "school girls", "school boy", "school boys",
    "loli", "lolis", "lolita", "lolicon", "shota", "shotacon", "toddler", "toddlers", "baby", "babies", "infant",
    "infants", "juvenile", "juveniles", "prepubescent", "pubescent", "jailbait", "youngster", "youngsters", "pedo*",
    "paedo*", "grade schooler", "middle schooler", "kindergarten*",
];

/// Explicit sexual terms: blocked (or reviewed) by the policy's `sexual` setting.
const SEXUAL_EXPLICIT: &[&str] = &[
    "nude", "nudes", "nudity", "naked", "nakedness", "sex", "porn*", "pron", "nsfw", "xxx", "hentai", "erotic*",
    "topless", "bottomless", "genital*", "penis", "penises", "vagina", "vaginas", "vulva", "nipple*", "boobs", "boobies",
    "tits", "titties", "intercourse", "masturbat*", "orgasm*", "blowjob*", "handjob*", "cumshot*", "fellatio",
    "cunnilingus", "dildo*", "bdsm", "onlyfans", "lewd", "undress*", "unclothed", "stripper*", "striptease", "noods",
    "rule 34", "r34", "sexual", "sexually", "coitus", "fornicat*", "pornhub", "camgirl", "upskirt", "without clothes",
    "no clothes", "without clothing",
];

/// Suggestive terms: allowed alone, but together with a minor term they block.
const SEXUAL_SUGGESTIVE: &[&str] = &[
    "sexy", "sexier", "sexiest", "seductive", "seductively", "sensual", "lingerie", "provocative", "aroused", "horny",
    "lust", "lustful", "kinky", "fetish*", "spread legs", "bedroom eyes", "suggestive", "risque", "steamy", "slutty", "slut",
];

/// A prompt, normalised into word tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Tokens(pub Vec<String>);

fn fold_char(c: char) -> char {
    match c {
        'а' => 'a', 'е' => 'e', 'о' => 'o', 'р' => 'p', 'с' => 'c', 'х' => 'x', 'у' => 'y', 'і' => 'i', 'ѕ' => 's',
        'ј' => 'j', 'ԁ' => 'd', 'к' => 'k', 'м' => 'm', 'т' => 't', 'в' => 'b', 'н' => 'h',
        'α' => 'a', 'ε' => 'e', 'ο' => 'o', 'ρ' => 'p', 'ν' => 'v', 'κ' => 'k', 'τ' => 't', 'ι' => 'i', 'χ' => 'x',
        other => other,
    }
}

fn leet(c: char) -> char {
    match c {
        '0' => 'o', '1' => 'i', '3' => 'e', '4' => 'a', '5' => 's', '7' => 't', '8' => 'b', '@' => 'a', '$' => 's',
        '!' => 'i', '|' => 'l', '+' => 't',
        other => other,
    }
}

const AGE_SUFFIXES: &[&str] = &["yo", "yrs", "yr", "y", "year", "years"];

/// Normalises `text` into tokens (see the module notes).
pub fn tokenize(text: &str) -> Tokens {
    let folded: String = text
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(fold_char)
        .collect();
    let mut raw: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in folded.chars() {
        if c.is_alphanumeric() || "@$!|+".contains(c) {
            cur.push(c);
        } else if !cur.is_empty() {
            raw.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        raw.push(cur);
    }
    let mut tokens = Vec::new();
    for t in raw {
        let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
        let rest = &t[digits.len()..];
        if !digits.is_empty() && (rest.is_empty() || AGE_SUFFIXES.contains(&rest)) {
            tokens.push(digits);
            if !rest.is_empty() {
                tokens.push(rest.to_string());
            }
            continue;
        }
        if t.chars().any(char::is_alphabetic) {
            // A leading or trailing '!' is punctuation ("peg!"), not a leet 'i'.
            let t = t.trim_matches('!');
            let mapped: String = t.chars().map(leet).filter(|c| c.is_alphanumeric()).collect();
            if !mapped.is_empty() {
                tokens.push(mapped);
            }
        } else {
            // Symbols alone ("!!!", "$$") are punctuation, not words.
            let kept: String = t.chars().filter(|c| c.is_alphanumeric()).collect();
            if !kept.is_empty() {
                tokens.push(kept);
            }
        }
    }
    // Join runs of 3+ single letters: "n u d e", "s.e.x".
    let mut joined = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i;
        while j < tokens.len() && tokens[j].chars().count() == 1 && tokens[j].chars().all(char::is_alphabetic) {
            j += 1;
        }
        if j - i >= 3 {
            joined.push(tokens[i..j].concat());
            i = j;
        } else {
            joined.push(tokens[i].clone());
            i += 1;
        }
    }
    Tokens(joined)
}

fn squeeze(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

fn has_triple(s: &str) -> bool {
    let cs: Vec<char> = s.chars().collect();
    cs.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
}

fn word_matches(token: &str, word: &str) -> bool {
    let (stem, prefix) = match word.strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (word, false),
    };
    let eq = |t: &str, w: &str| if prefix { t.starts_with(w) } else { t == w };
    eq(token, stem) || (has_triple(token) && eq(&squeeze(token), &squeeze(stem)))
}

/// Positions where the phrase `term` (already tokenised words) starts in `tokens`.
fn find(tokens: &[String], term: &[String]) -> Vec<usize> {
    if term.is_empty() || term.len() > tokens.len() {
        return vec![];
    }
    (0..=tokens.len() - term.len())
        .filter(|&i| term.iter().enumerate().all(|(k, w)| word_matches(&tokens[i + k], w)))
        .collect()
}

fn term_words(term: &str) -> Vec<String> {
    // Keep a trailing '*' on the last word; tokenise the rest like a prompt.
    let star = term.ends_with('*');
    let mut words = tokenize(term.trim_end_matches('*')).0;
    if star {
        if let Some(last) = words.last_mut() {
            last.push('*');
        }
    }
    words
}

fn first_match<'a>(tokens: &[String], terms: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    terms.into_iter().find(|t| !find(tokens, &term_words(t)).is_empty())
}

/// An age under 18 written as "<n> year(s) old", "<n>yo", "<n> yrs", "aged <n>".
fn minor_age(tokens: &[String]) -> Option<String> {
    for (i, t) in tokens.iter().enumerate() {
        let Ok(n) = t.parse::<u32>() else { continue };
        if n >= 18 {
            continue;
        }
        let next = tokens.get(i + 1).map(String::as_str);
        let after = tokens.get(i + 2).map(String::as_str);
        let prev = i.checked_sub(1).map(|p| tokens[p].as_str());
        let aged = matches!(next, Some("yo" | "y")) && !matches!(after, Some("old")) // "14yo"
            || matches!((next, after), (Some("year" | "years" | "yr" | "yrs" | "y"), Some("old" | "o")))
            || matches!(prev, Some("aged" | "age"));
        if aged {
            return Some(format!("age {n}"));
        }
    }
    None
}

/// Blanks out every allowlisted phrase (replaced by an empty token so phrases do not join
/// across the gap). An entry `phrase & context words` blanks the phrase only when every
/// context word also occurs in the prompt ("hooker & rugby", "nude & lipstick").
fn remove_allowed(tokens: &[String], allowlist: &[String]) -> Vec<String> {
    let mut out = tokens.to_vec();
    for entry in allowlist {
        let (phrase, context) = entry.split_once('&').unwrap_or((entry, ""));
        let context_present = context.split_whitespace().all(|w| {
            let w = term_words(w);
            !find(tokens, &w).is_empty()
        });
        if !context_present {
            continue;
        }
        let words = term_words(phrase);
        for start in find(tokens, &words) {
            for t in &mut out[start..start + words.len()] {
                t.clear();
            }
        }
    }
    out
}

/// rustrict's verdict on whole words only. rustrict also matches inside words ("Wankdorf",
/// "Scunthorpe" in some lists); a word counts only when rustrict censors all of it.
fn rustrict_words(tokens: &[String]) -> Type {
    let mut found = Type::NONE;
    for t in tokens.iter().filter(|t| !t.is_empty()) {
        let (censored, typ) = Censor::from_str(t)
            .with_censor_threshold(Type::INAPPROPRIATE)
            .with_censor_first_character_threshold(Type::NONE)
            .censor_and_analyze();
        if censored.chars().count() >= t.chars().count() && censored.chars().all(|c| c == '*') {
            found |= typ;
        }
    }
    found
}

/// Checks a prompt against the policy. Never returns the matched term to the member: the
/// labels (which do) are for the decision record and moderators.
pub fn check(prompt: &str, policy: &PromptPolicy) -> Verdict {
    let tokens = tokenize(prompt).0;
    if tokens.is_empty() {
        return Verdict::allow("lists");
    }
    let open = remove_allowed(&tokens, &policy.allowlist);
    // rustrict reads the normalised words minus allowlisted phrases, word by word.
    let analysis = rustrict_words(&open);
    let analysis_all = rustrict_words(&tokens);

    let minor = first_match(&tokens, MINOR_TERMS.iter().copied()).map(str::to_string).or_else(|| minor_age(&tokens));
    let explicit = first_match(&tokens, SEXUAL_EXPLICIT.iter().copied());
    let suggestive = first_match(&tokens, SEXUAL_SUGGESTIVE.iter().copied());
    let rustrict_sexual = analysis_all.is(Type::SEXUAL & Type::MODERATE_OR_HIGHER);

    // The rule no policy lifts: sexual + minors.
    if let Some(m) = &minor {
        if explicit.is_some() || suggestive.is_some() || rustrict_sexual {
            let sexual = explicit.or(suggestive).unwrap_or("rustrict:sexual");
            return Verdict::block(Category::Minors, "rustrict+lists", json!([{ "label": "minor_term", "match": m }, { "label": "sexual_term", "match": sexual }]));
        }
    }

    let mut verdict = Verdict::allow("rustrict+lists");
    let open_explicit = first_match(&open, SEXUAL_EXPLICIT.iter().copied());
    let severe_sexual = analysis.is(Type::SEXUAL & Type::SEVERE);
    if open_explicit.is_some() || severe_sexual {
        let m = open_explicit.unwrap_or("rustrict:sexual-severe");
        verdict = verdict.raise(policy.sexual, Category::Sexual, json!({ "label": "sexual_term", "match": m }));
    }
    if analysis.is(Type::OFFENSIVE & Type::SEVERE) {
        verdict = verdict.raise(policy.hate, Category::Other, json!({ "label": "rustrict:offensive-severe" }));
    }
    for Term { phrase, category, decision } in &policy.blocklist {
        if !find(&open, &term_words(phrase)).is_empty() {
            verdict = verdict.raise(*decision, *category, json!({ "label": "blocklist", "match": phrase }));
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokenize(s).0
    }

    #[test]
    fn tokenizer_normalises_evasions() {
        assert_eq!(toks("S3X p0rn"), ["sex", "porn"]);
        assert_eq!(toks("n.u.d.e beach"), ["nude", "beach"]);
        assert_eq!(toks("ñúdé"), ["nude"]);
        assert_eq!(toks("ｎｕｄｅ"), ["nude"]);
        assert_eq!(toks("nudе"), ["nude"], "Cyrillic e");
        assert_eq!(toks("a 14yo, aged 9"), ["a", "14", "yo", "aged", "9"]);
        assert_eq!(toks("Hello, World!!!"), ["hello", "world"]);
        assert_eq!(toks("$ex"), ["sex"]);
    }

    #[test]
    fn words_match_whole_or_by_declared_prefix() {
        assert!(word_matches("porno", "porn*"));
        assert!(!word_matches("pegboard", "peg"));
        assert!(word_matches("nuuuude", "nude"));
        assert!(!word_matches("boobs", "bobs"), "no squeeze without a triple");
        assert_eq!(find(&toks("a school girl"), &term_words("school girl")), [1]);
    }
}

use super::*;
use proptest::prelude::*;

#[test]
fn commit_sha_accepts_both_lengths_and_lowercases() {
    let sha = CommitSha::parse(&"A".repeat(40)).unwrap();
    assert_eq!(sha.as_str(), "a".repeat(40));
    assert!(CommitSha::parse(&"0".repeat(64)).is_ok());
    for bad in ["", "abc", &"g".repeat(40), &"0".repeat(41), &"0".repeat(63)] {
        assert!(CommitSha::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn branch_follows_git_rules() {
    for ok in [
        "main",
        "release/1.2",
        "feature/x-y_z",
        "dependabot/npm/a-1.0",
    ] {
        assert!(Branch::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "", "a b", "a..b", "-x", "/x", "x/", "x.lock", "a~b", "a\nb", "a@{b",
    ] {
        assert!(Branch::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn scope_round_trips_through_its_string_form() {
    for s in ["", "oauth", "oauth/production"] {
        assert_eq!(Scope::parse(s).unwrap().to_string(), s);
    }
    assert!(Scope::parse("a/b/c").is_err());
}

#[test]
fn severity_is_ordered() {
    assert!(Severity::Info < Severity::Warning);
    assert!(Severity::Warning < Severity::Error);
    assert!(Severity::Error < Severity::Critical);
}

#[test]
fn email_addresses() {
    for ok in ["security@acme.com", "dev.lead+alerts@mail.acme.io"] {
        assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "acme.com",
        "a@b",
        "a b@c.com",
        "<a@b.com>",
        "a@-b.com",
        ".a@b.com",
    ] {
        assert!(EmailAddress::parse(bad).is_err(), "{bad}");
    }
}

proptest! {
    #[test]
    fn parsed_names_are_identifiers(s in "\\PC{0,140}") {
        if let Ok(n) = Name::parse(&s) {
            prop_assert!(n.as_str().len() <= 128);
            prop_assert!(n.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
        }
    }

    #[test]
    fn hex_of_right_length_is_a_sha(s in "[0-9a-fA-F]{40}|[0-9a-fA-F]{64}") {
        let sha = CommitSha::parse(&s).unwrap();
        prop_assert_eq!(sha.as_str(), s.to_ascii_lowercase());
    }
}

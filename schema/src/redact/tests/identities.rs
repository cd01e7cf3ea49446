//! Cases of private keys and recipient identities, in the forms SOPS writes them.

use super::{CONTEXTS, case, re, rule_cases};

/// Where SOPS and gpg put a PGP fingerprint: YAML, JSON, dotenv and INI metadata,
/// `.sops.yaml` creation rules, and gpg's own output.
const SOPS_PGP: &[(&str, &str)] = &[
    (
        "sops:\n    pgp:\n        - created_at: \"2026-05-14T09:30:00Z\"\n          fp: ",
        "\n",
    ),
    ("{\"sops\": {\"pgp\": [{\"fp\": \"", "\"}]}}"),
    ("sops_pgp__list_0__map_fp=", "\n"),
    ("[sops]\npgp__list_0__map_fp = ", "\n"),
    ("creation_rules:\n  - pgp: >-\n      ", ",\n"),
    ("key_groups:\n  - pgp:\n      - ", "\n"),
    ("gpg --recv-keys ", " && echo ok"),
    ("signed by ", "."),
    ("(", ")"),
    ("\"", "\""),
];

const PGP_WORDS: &[(&str, &str)] = &[
    ("fingerprint: ", ""),
    ("pgp: '", "'"),
    ("gpg --recv-key ", " && echo ok"),
    ("signed with key ID ", "."),
    ("\"fp\": \"", "\""),
    ("sops_pgp__list_0__map_fp=", "\n"),
    ("[sops]\npgp__list_0__map_fp = ", "\n"),
    ("          fp: ", "\n"),
    ("PGP key (", ")"),
    ("openpgp fingerprint ", " was revoked."),
];

rule_cases! {
    rule_private_key_block: case! {
        class: "private-key-block",
        token: re(concat!(
            "-----BEGIN (RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY( BLOCK)?-----\n",
            "[A-Za-z0-9+/]{64}(\n[A-Za-z0-9+/=]{1,64}){1,6}\n",
            "-----END (RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY( BLOCK)?-----",
        )),
        contexts: CONTEXTS,
        samples: [
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yFmm3+gGxVj1F0ZrQ8z8Zb3u\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\nlQOYBGRt3sIBCADQ1a2b3c4d5e6f7g8h9i0j\n=Xq2k\n-----END PGP PRIVATE KEY BLOCK-----",
            "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAAi4AAAA3aWYtbW9kbntzaWdue3JzYS1wa2NzMS1zaGExfSxlbmNyeXB0\n---- END SSH2 ENCRYPTED PRIVATE KEY ----",
        ],
        near_misses: [
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----",
            "the private key is stored in vault",
        ],
        weaken: ("PRIVATE KEY(?: BLOCK)? ?-{4,5}(?:", "PRIVATE KEY ?-{4,5}(?:"),
    };
    rule_age_secret_key: case! {
        class: "age-secret-key",
        token: re("AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}|AGE-PLUGIN-YUBIKEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{28}"),
        contexts: CONTEXTS,
        samples: [
            "AGE-SECRET-KEY-1T09NL4UJY8624FL6ZY54KLAY937YRNUJCKPAK28LRDJG0EEL92UE3GM36K",
            "AGE-PLUGIN-YUBIKEY-1CWF9TFWWQLTSJQF6H5GRAEEEEX7E",
        ],
        near_misses: [
            "AGE-SECRET-KEY-1T09NL4UJY8624FL6ZY54KLAY937YRNUJCKPAK28LRDJG0EEL92UE3GM36",
            "AGE-SECRET-KEY-1t09nl4ujy8624fl6zy54klay937yrnujckpak28lrdjg0eel92ue3gm36k",
        ],
        weaken: ("1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]", "1[PZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]"),
    };
    rule_age_recipient: case! {
        class: "age-recipient",
        token: re("age1((yubikey|pq|tpm)1)?[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}"),
        contexts: &[
            ("", ""), ("recipient: ", "\n"), ("sops_age__list_0__map_recipient=", "\n"),
            ("{\"recipient\": \"", "\"}"), ("age: >-\n      ", ",\n"), ("(", ")"),
            ("--age ", " secrets.yaml"), ("[sops]\nage__list_0__map_recipient = ", "\n"),
            ("recipients: [\"", "\",\n"), ("the recipient ", " was removed."),
        ],
        samples: ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"],
        near_misses: ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8", "age 18 and over", "page1"],
        weaken: ("(?:[a-z0-9-]{1,32}1)?", ""),
    };
    rule_truncated_recipient: case! {
        class: "truncated-recipient",
        token: re("(age1|[0-9A-F]{4}|arn:)…[a-z0-9A-Z/_-]{8}"),
        contexts: &[
            ("Expected recipient '", "' is missing from encrypted file."),
            ("Unexpected recipient '", "' found in encrypted file."),
            ("{\"message\": \"Expected recipient '", "' is missing from encrypted file.\"}"),
            ("oauth/production: Unexpected recipient '", "' found in encrypted file."),
            ("- Expected recipient '", "' is missing from encrypted file.\n"),
            ("message: Expected recipient '", "' is missing\n"),
            ("(Expected recipient '", "' is missing)"),
            ("warning: unexpected recipient '", "'"),
            ("Recipient '", "' missing"),
            ("sops: expected recipient '", "' is missing; run clef recipients add"),
        ],
        samples: ["age1…3k9x0q2z", "85D7…491B3F21"],
        near_misses: [
            "Expected recipient 'ops-team' is missing",
            "File is encrypted with only 1 recipient(s).",
            "the recipient list … was updated",
        ],
        weaken: ("{1,16}…", "{1,16}\\.\\.\\."),
    };
    rule_pgp_fingerprint: case! {
        class: "pgp-fingerprint",
        token: re("[0-9A-F]{4}( [0-9A-F]{4}){4}  [0-9A-F]{4}( [0-9A-F]{4}){4}"),
        contexts: CONTEXTS,
        samples: ["9F34 369A AD80 B891 BAF9  0D0D 3BF1 6295 D069 10BF"],
        near_misses: [
            "9F34 369A AD80 B891 BAF9 0D0D 3BF1 6295 D069",
            "3F5FB85967F532F3AB3CC2D0B698D5C7E41BA4EA",
            "2019 2020 2021 2022 and 2023",
        ],
        weaken: ("{9}", "{8}"),
    };
    rule_pgp_fingerprint_in_context: case! {
        class: "pgp-fingerprint-in-context",
        token: re("(0x)?([0-9A-F]{40}|[0-9a-f]{40})"),
        contexts: PGP_WORDS,
        samples: ["3F5FB85967F532F3AB3CC2D0B698D5C7E41BA4EA", "3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea"],
        near_misses: [
            "commit 3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea",
            "fingerprint: 3F5FB859",
            "deployed 3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea to production",
        ],
        weaken: ("fpr|fp|", "fpr|"),
    };
    rule_pgp_fingerprint_uppercase: case! {
        class: "pgp-fingerprint-uppercase",
        token: re("[0-9A-F]{12}[A-F][0-9A-F]{27}"),
        contexts: SOPS_PGP,
        samples: ["FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4", "85D77543B3D624B63CEA9E6DBC17301B491B3F21"],
        near_misses: [
            "3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea",
            "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B",
            "1234567890123456789012345678901234567890",
        ],
        weaken: ("{40}", "{39}"),
    };
    rule_aws_kms_arn: case! {
        class: "aws-kms-arn",
        token: re(concat!(
            "arn:aws(-us-gov|-cn)?:kms:(us-east-1|eu-west-2|ap-southeast-1):[0-9]{12}:",
            "(key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|key/mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_-]{1,40})",
        )),
        contexts: &[
            ("", ""), ("    kms:\n        - arn: ", "\n          created_at: x"), ("{\"arn\": \"", "\"}"),
            ("sops_kms__list_0__map_arn=", "\n"), ("kms: '", "'"), ("(", ")"), ("--kms ", " secrets.yaml"),
            ("key ", " was disabled."), ("[\"", "\",\n"), ("<KeyArn>", "</KeyArn>"),
        ],
        samples: ["arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
        near_misses: ["arn:aws:s3:::my-bucket/key/x", "arn:aws:kms:us-east-1:12345:key/abc"],
        weaken: ("(?:key|alias)", "(?:key)"),
    };
    rule_gcp_kms_key: case! {
        class: "gcp-kms-key",
        token: re(concat!(
            "projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/(global|us-east1|europe-west4)/",
            "keyRings/[A-Za-z0-9_-]{1,30}/cryptoKeys/[A-Za-z0-9_-]{1,30}(/cryptoKeyVersions/[0-9]{1,3})?",
        )),
        contexts: &[
            ("", ""), ("    gcp_kms:\n        - resource_id: ", "\n"), ("{\"resource_id\": \"", "\"}"),
            ("sops_gcp_kms__list_0__map_resource_id=", "\n"), ("gcp_kms: '", "'"), ("(", ")"),
            ("--gcp-kms ", " secrets.yaml"), ("key ", " was disabled."), ("[\"", "\",\n"),
            ("<ResourceId>", "</ResourceId>"),
        ],
        samples: ["projects/acme-prod/locations/global/keyRings/sops/cryptoKeys/sops-key"],
        near_misses: ["projects/acme-prod/locations/global", "projects/123/issues/45"],
        weaken: ("(?:/cryptoKeyVersions/[0-9]+)?", ""),
    };
    rule_azure_key_vault_key: case! {
        class: "azure-key-vault-key",
        token: re(r"https://[a-z][a-z0-9-]{2,22}\.(vault\.azure\.net|managedhsm\.azure\.net)(/keys/[A-Za-z0-9-]{1,30}(/[0-9a-f]{32})?)?"),
        contexts: &[
            ("", ""), ("    azure_kv:\n        - vault_url: ", "\n          name: sops-key"),
            ("{\"vault_url\": \"", "\"}"), ("sops_azure_kv__list_0__map_vault_url=", "\n"),
            ("azure_keyvault: '", "'"), ("(", ")"), ("--azure-kv ", " secrets.yaml"),
            ("key ", " was disabled."), ("[\"", "\",\n"), ("<VaultUrl>", "</VaultUrl>"),
        ],
        samples: ["https://acme-prod-kv.vault.azure.net/keys/sops-key/5ee874ae7689447ab57a683536c4499d"],
        near_misses: ["https://acme.vault.azure.net/secrets/db", "https://acme.blob.core.windows.net/keys/x"],
        weaken: ("{32})?", "{31})?"),
    };
    rule_vault_transit_key: case! {
        class: "vault-transit-key",
        token: re(r"https?://vault(\.[a-z]{3,10}){1,2}(:8200)?/v1/([a-z_-]{1,12}/){1,2}keys/[A-Za-z0-9_.-]{1,20}"),
        contexts: &[
            ("", ""), ("hc_vault_transit_uri: \"", "\"\n"), ("{\"hc_vault_transit_uri\": \"", "\"}"),
            ("--hc-vault-transit ", " secrets.yaml"), ("(", ")"), ("key ", " was rotated"),
            ("[\"", "\",\n"), ("<Uri>", "</Uri>"), ("uri = ", "\n"), ("'", "'"),
        ],
        samples: ["https://vault.example.com:8200/v1/sops/keys/firstkey"],
        near_misses: ["https://vault.example.com:8200/v1/sys/health", "https://vault.example.com/ui/"],
        weaken: ("(?::[0-9]{1,5})?", ""),
    };
}

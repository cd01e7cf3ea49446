//! Cases of the rules that recognise a secret by where it stands.

use super::{CONTEXTS, case, re, redact, rule_cases};
use proptest::prelude::*;

/// Tokens that are random by construction: uppercase, digit and lowercase characters
/// interleaved, each letter used once, so every token has entropy above 4.9 bits/char,
/// no separator and no word-like run.
fn random_token() -> BoxedStrategy<String> {
    let shuffled = |s: &str| Just(s.chars().collect::<Vec<char>>()).prop_shuffle();
    (
        11usize..=20,
        shuffled("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        shuffled("0123456789"),
        shuffled("abcdefghijklmnopqrstuvwxyz"),
    )
        .prop_map(|(n, upper, digits, lower)| {
            (0..n)
                .flat_map(|i| [upper[i], digits[i % 10], lower[i]])
                .collect()
        })
        .boxed()
}

/// A password-like value: starts with a lowercase letter, ends with a digit, and has
/// the symbols people put in passwords but no separator of the syntax around it.
const PASSWORD: &str = "[a-z][A-Za-z0-9!#%&*+/:=?@^_-]{5,30}[0-9]";

/// Every syntax a secret-bearing name is assigned in.
const ASSIGNMENTS: &[(&str, &str)] = &[
    ("password=", " "),
    ("export GITHUB_TOKEN=", "\n"),
    ("--db-password=", ""),
    ("client_secret => ", "\n"),
    ("DB_PASSWORD ?= ", "\n"),
    ("API_TOKEN ::= ", "\n"),
    ("API_TOKEN :::= ", "\n"),
    ("SECRET_FLAGS += ", "\n"),
    ("ENV DB_PASSWORD=", "\n"),
    ("spring.datasource.password=", "\n"),
    ("(password=", ")"),
    ("Server=db;Password=", ";User Id=app"),
];

const QUOTED: &[(&str, &str)] = &[
    ("password: \"", "\""),
    ("{\"client_secret\": \"", "\"}"),
    ("DB_PASSWORD='", "'"),
    ("apiKey = \"", "\";"),
    ("var apiToken string = \"", "\"\n"),
    ("apiToken := \"", "\"\n"),
    ("$token .= \"", "\";"),
    ("'password' => '", "',"),
    ("const API_TOKEN: &str = \"", "\";"),
    ("let apiToken: string = '", "';"),
    ("password = \"", "\"\n"),
    ("  db_password: '", "'\n"),
];

rule_cases! {
    rule_url_userinfo: case! {
        class: "url-userinfo",
        token: re("[a-z]{3,10}:[A-Za-z0-9%!$*+.-]{8,30}|[A-Za-z0-9_]{16,40}"),
        contexts: &[
            ("https://", "@github.com/acme/repo.git"),
            ("postgres://", "@db.internal:5432/app"),
            ("clone git+https://", "@example.com/x and done"),
            ("DATABASE_URL=mysql://", "@db:3306/app\n"),
            ("redis://", "@cache:6379/0"),
            ("{\"url\": \"amqp://", "@mq/vhost\"}"),
            ("mongodb+srv://", "@cluster0.mongodb.net/app"),
            ("(ftp://", "@files.example.com/)"),
            ("<url>smtp://", "@mail:587</url>"),
            ("url: \"https://", "@registry.npmjs.org/\"\n"),
        ],
        samples: ["deploy:s3cr3t-Passw0rd", "x-access-token:ghs_Zq3Xv8Lm2Pw9", "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"],
        near_misses: [
            "ssh://git@github.com/acme/repo.git",
            "https://example.com/@user",
            "mailto:ops@example.com",
            "https://github.com/acme/repo/actions/runs/123456789",
        ],
        weaken: (r"|[^\s/?#@:<>]{16,}", ""),
    };
    rule_url_query_secret: case! {
        class: "url-query-secret",
        token: re("[A-Za-z0-9%._~-]{1,60}[A-Za-z]"),
        contexts: &[
            ("https://ci.example.com/job/42?token=", "&page=2"),
            ("https://s3.amazonaws.com/b/o?X-Amz-Signature=", ""),
            ("https://x.blob.core.windows.net/c/b?sv=2022-11-02&sig=", "#frag"),
            ("https://api.example.com/v1?api_key=", " returned 403"),
            ("/callback?code=", "&state=xyz"),
            ("{\"url\": \"https://x.io/?access_token=", "\"}"),
            ("(https://x.io/a?password=", " )"),
            ("<link>https://x.io/?apikey=", "</link>"),
            ("GET /v1/items?client_secret=", " HTTP/1.1"),
            ("webhook: https://x.io/hook?secret=", "\n"),
        ],
        samples: ["fe8a9b2c%2F20240101x", "abc"],
        near_misses: [
            "https://example.com/?page=2&sort=name",
            "https://example.com/?tokens=3",
            "https://example.com/?monkey=banana",
        ],
        weaken: ("|sig|", "|"),
    };
    rule_authorization_header: case! {
        class: "authorization-header",
        token: re("[A-Za-z0-9+/]{6,60}[0-9]={0,2}"),
        contexts: &[
            ("Authorization: Basic ", "\n"),
            ("-H \'Authorization: Basic ", "\'"),
            ("{\"Authorization\": \"Bearer ", "\"}"),
            ("authorization=token ", "\n"),
            ("Proxy-Authorization: Basic ", "\r\n"),
            ("headers: { Authorization: \'Bearer ", "\' }"),
            ("AUTHORIZATION: ", ""),
            ("  authorization: Basic ", " # ci"),
            ("[\"Authorization: Bearer ", "\",\n"),
            ("Authorization:Basic ", "\n"),
        ],
        samples: ["dXNlcjpwYXNzd29yZA==", "ZGVwbG95OnMzY3IzdA=="],
        near_misses: ["Authorization: required", "Authorization: Bearer <token>", "authorization header missing"],
        weaken: ("{6,}={0,2}", "{6,}"),
    };
    rule_bearer_token: case! {
        class: "bearer-token",
        token: re("[a-z][A-Za-z0-9._~+/-]{14,60}[0-9]"),
        contexts: &[
            ("Bearer ", ""),
            ("curl -H \"X: bearer ", "\" https://x"),
            ("used bearer ", " today"),
            ("{\"auth\": \"Bearer ", "\"}"),
            ("(Bearer ", ")"),
            ("Authorization: Bearer ", "\r\n"),
            ("<auth>Bearer ", "</auth>"),
            ("token_type=Bearer&x=1 Bearer ", "\n"),
            ("[\"Bearer ", "\",\n"),
            ("BEARER ", ";"),
        ],
        samples: ["a1b2c3d4e5f6g7h8i9j0"],
        near_misses: ["Bearer authentication", "bearer tokenization"],
        weaken: ("{16,}", "{16,20}"),
    };
    rule_curl_user: case! {
        class: "curl-user",
        token: re("[a-z]{3,10}:[a-z][A-Za-z0-9!#%&*+/=?@^_.-]{4,20}[0-9]"),
        contexts: &[
            ("curl -u ", " https://api.example.com"),
            ("curl --user ", "\n"),
            ("curl -u \'", "\' -X POST"),
            ("curl --user=", " x"),
            ("curl -s -u \"", "\" https://x"),
            ("run: curl -fsSL -u ", " $URL\n"),
            ("$ curl -u", " localhost"),
            ("(curl -u ", " x)"),
            ("sh -c \'curl --user ", " x\'"),
            ("curl -X GET -u ", ""),
        ],
        samples: ["admin:s3cr3t!x1"],
        near_misses: ["curl -u admin https://x", "curl -u $USER:$PASS https://x", "curl -u admin:${TOKEN} x"],
        weaken: ("-u|--user", "-u"),
    };
    rule_netrc_password: case! {
        class: "netrc-password",
        token: re(PASSWORD),
        contexts: &[
            ("machine api.heroku.com login me@example.com password ", "\n"),
            ("default login deploy password ", ""),
            ("machine github.com\tlogin bot\tpassword ", "\n"),
            ("machine a login b password ", " machine c"),
            ("machine x.io login u@x.io password ", ""),
            ("default login anonymous password ", "\n"),
            ("machine 10.0.0.1 login root password ", "\n\n"),
            ("machine git.acme.com login ci password ", " # ci"),
            ("machine h login l password ", "\r\n"),
            ("machine registry.npmjs.org login npm password ", "\n"),
        ],
        samples: ["hunter2hunter2"],
        near_misses: ["login failed: password incorrect"],
        weaken: ("[ \\t]+(\\S+)", "[ \\t]+(\\S{40,})"),
    };
    rule_xml_key_value: case! {
        class: "xml-key-value",
        token: re(PASSWORD),
        contexts: &[
            ("<add key=\"ClearTextPassword\" value=\"", "\" />"),
            ("<add key=\"ApiToken\" value=\"", "\"/>\n"),
            ("<add key=\"Stripe.SecretKey\" value=\"", "\"/>"),
            ("<add key=\"Password\" value=\"", "\"/>"),
            ("  <add key=\"DbPassword\"  value=\"", "\" />\n"),
            ("<add key = \"ClientSecret\" value = \"", "\"/>"),
            ("<setting key=\"api_key\" value=\"", "\"/>"),
            ("<add key=\"AuthToken\" value=\"", "\" xdt:Transform=\"Insert\"/>"),
            ("<add key=\"Credentials\" value=\"", "\"/>"),
            ("<add key=\"SMTP_PASS\" value=\"", "\"/>"),
        ],
        samples: ["s3cr3t!value1"],
        near_misses: ["<add key=\"Username\" value=\"deploy-bot\" />"],
        weaken: ("password|", ""),
    };
    rule_xml_element: case! {
        class: "xml-element",
        token: re(PASSWORD),
        contexts: &[
            ("<password>", "</password>"),
            ("<apiToken>", "</apiToken>\n"),
            ("  <client-secret encrypted=\"false\">", "</client-secret>"),
            ("<server><id>repo</id><password>", "</password></server>"),
            ("<ApiKey>", "</ApiKey>"),
            ("<db.password>", "</db.password>"),
            ("<secret>", "</secret>"),
            ("<accessKey>", "</accessKey>"),
            ("<auth_token>", "</auth_token>"),
            ("<privateKey type=\"pem\">", "</privateKey>"),
        ],
        samples: ["hunter2hunter2"],
        near_misses: ["<passwordFile>/run/secrets/db</passwordFile>", "<password>${env.DB_PASSWORD}</password>", "<tokenName>ci</tokenName>"],
        weaken: ("secret|", ""),
    };
    rule_call_key_value: case! {
        class: "call-key-value",
        token: re(PASSWORD),
        contexts: &[
            ("System.setProperty(\"API_TOKEN\", \"", "\");"),
            ("os.environ.setdefault(\'DB_PASSWORD\', \'", "\')"),
            ("setenv(\"SECRET_KEY\", \"", "\", 1);"),
            ("config.set(\"password\",\"", "\")"),
            ("put( \"apiKey\" , \"", "\" )"),
            ("os.Setenv(\"GITHUB_TOKEN\", \"", "\")"),
            ("headers.set(\'X-Api-Key\', \'", "\');"),
            ("props.setProperty(\"db.password\", \"", "\");"),
            ("map.insert(\"client_secret\", \"", "\");"),
            ("ENV.store(\"AUTH_TOKEN\", \"", "\")"),
        ],
        samples: ["hunter2hunter2"],
        near_misses: ["System.setProperty(\"API_TOKEN\", System.getenv(\"X\"));", "fields(\"password\", \"password_confirmation\")"],
        weaken: ("password|", ""),
    };
    rule_cli_flag_secret: case! {
        class: "cli-flag-secret",
        token: re(PASSWORD),
        contexts: &[
            ("mysql --password ", " -h db"),
            ("vault login -token ", "\n"),
            ("app --api-key ", ""),
            ("docker login --password ", " ghcr.io"),
            ("run: deploy --token ", "\n"),
            ("cli --client-secret ", " --verbose"),
            ("x -password ", ""),
            ("tool\t--secret ", "\n"),
            ("$ app --db-password ", " --port 5432"),
            ("(app --auth-token ", " )"),
        ],
        samples: ["s3cr3t!x1"],
        near_misses: ["use the --password flag", "--password-file /run/secrets/db", "--token $TOKEN"],
        weaken: ("token|", ""),
    };
    rule_generic_assignment_quoted: case! {
        class: "generic-assignment-quoted",
        token: re("[a-z][A-Za-z0-9 !#%&()*+,./:;<=>?@^_-]{5,38}[0-9]"),
        contexts: QUOTED,
        samples: ["correct horse battery staple", "hunter2hunter2", "s3cr3t!"],
        near_misses: ["password: \"short\"", "username: \"administrator\"", "password = \"${var.db_password}\""],
        weaken: ("secret|", ""),
    };
    rule_generic_assignment: case! {
        class: "generic-assignment",
        token: re(PASSWORD),
        contexts: ASSIGNMENTS,
        samples: ["hunter2hunter2", "s3cr3t!", "hunterhunter", "/tuZUbey1ai2G4qGDlX0eudj"],
        near_misses: [
            "password=short",
            "passwords are rotated every 90 days",
            "url=https://example.com/path",
            "https://example.com/?token=abcdefghijkl",
            "GITHUB_API_KEY=\nDYNATRACE_API_KEY=",
        ],
        weaken: ("::=|", ""),
    };
    rule_generic_colon_assignment: case! {
        class: "generic-colon-assignment",
        token: re("[A-Za-z]{4,20}[0-9]{2,4}[A-Za-z0-9!@#$%^*_.-]{2,20}|[a-z]{10,20}"),
        contexts: &[
            ("DB_PASSWORD: ", "\n"),
            ("  db_secret: ", " # rotated"),
            ("\"apiToken\": ", " }"),
            ("smtp_pass: ", ""),
            ("client_secret: ", "\n"),
            ("  API_KEY : ", "\n"),
            ("{apiKey: ", ", user: bob}"),
            ("- GITHUB_TOKEN: ", "\r\n"),
            ("access-key: ", " // prod"),
            ("privateKey:", "\n"),
        ],
        samples: ["hunter2hunter2", "Prod2024!x", "hunterhunter", "/tuZUbey1ai2G4qGDlX0eudj"],
        near_misses: [
            "Secret: rotation overdue",
            "Token: expired",
            "password: DATABASE_URL",
            "password: hunterhunter",
            "Key STRIPE_SECRET_KEY: rotation overdue in production",
        ],
        weaken: ("password|", ""),
    };
    rule_kubernetes_secret_data: case! {
        class: "kubernetes-secret-data",
        token: re("[A-Za-z0-9+/]{12,60}={0,2}"),
        contexts: &[
            ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: ", "\ntype: Opaque\n"),
            ("data:\n  token: ", "\nkind: Secret\nmetadata:\n  name: x\n"),
            ("kind: Secret\nstringData:\n  api-key: \"", "\"\n---\nkind: ConfigMap\n"),
            ("kind: \"Secret\"\ndata:\n  tls.key: ", "\n"),
            ("---\nkind: Secret\ndata:\n\n  key: ", "\n"),
            ("kind: Secret\ndata:\n  x: \'", "\'\n"),
            ("kind: Secret\r\ndata:\r\n  pw: ", "\r\n"),
            ("kind: Secret\ndata:\n\tk: ", "\n"),
            ("kind: Secret\ndata:\n  .dockerconfigjson: ", ""),
            ("kind: Secret\ntype: Opaque\ndata:\n  a: ", "   \n"),
        ],
        samples: ["aHVudGVyMg=="],
        near_misses: [
            "kind: ConfigMap\ndata:\n  log_level: ZGVidWc=\n",
            "kind: Secret\nmetadata:\n  name: db\n",
        ],
        weaken: ("data|stringData", "data"),
    };
    rule_high_entropy: case! {
        class: "high-entropy",
        token: random_token(),
        contexts: &[
            ("", ""),
            ("leaked ", " in the log."),
            ("(\"", "\")"),
            ("x: ", "\n"),
            ("SOME_SETTING=", "\n"),
            ("https://ci.example.com/job/deploy/", "/console"),
            ("{\"value\": \"", "\"}"),
            ("<v>", "</v>"),
            ("[\"", "\",\n"),
            ("X-Amz-Date=20260101&X-Amz-Security-Token=", "&x=1"),
        ],
        samples: ["JznnJAX7ebZ3CL7csGZaF31DDxp63OHm1FZuG296c0xPbX+n", "JznnJAX7ebZ3CL7csGZaF31DD==xp63OHm1FZuG296c0xPbX+n"],
        near_misses: [
            "3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "550e8400-e29b-41d4-a716-446655440000",
            "https://gitlab.com/acme-group/sub-group/backend-services/-/pipelines/987654321/jobs/123",
        ],
        weaken: ("{31,}", "{31,39}"),
    };
}

/// Under a bare name, letters that do not read as words are a secret (a Kubernetes
/// Secret's value where the `data:` rule cannot see the document, as in a report
/// message); letters that do stay, as prose.
#[test]
fn bare_names_take_random_letters_not_words() {
    for secret in ["omTNafgXRQVkksNUGgndOxaA", "wUenunFqopqDxDJlZIYootId"] {
        for before in [
            "password: ",
            "  token: ",
            "x | kind: Secret\ndata:\n  password: ",
        ] {
            let text = format!("{before}{secret}\n");
            assert!(!redact(&text).contains(secret), "{text:?}");
        }
    }
    for text in [
        "password: rotationOverdue",
        "token: notConfiguredYet",
        "Secret: NONE",
    ] {
        assert_eq!(redact(text), text);
    }
}

/// The contexts every prefix token is checked in are at least ten.
#[test]
fn shared_contexts_are_broad() {
    assert!(CONTEXTS.len() >= 10);
}

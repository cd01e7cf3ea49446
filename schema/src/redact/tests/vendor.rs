//! Cases of the hand-written vendor rules (the declared prefix tokens get theirs from
//! `token_case`).

use super::{CONTEXTS, case, re, rule_cases};

const AWS_SECRET: &[(&str, &str)] = &[
    ("aws_secret_access_key = ", "\n"),
    ("AWS_SECRET_ACCESS_KEY=", ""),
    ("{\"aws_secret_access_key\": \"", "\"}"),
    ("aws-secret-key: ", " # prod"),
    ("export AWS_SECRET_ACCESS_KEY=", "; aws s3 ls"),
    ("aws_secret_access_key: '", "'\n"),
    ("AwsSecretKey => \"", "\","),
    ("(aws_secret_key=", ")"),
    ("aws_secret_access_key=", " # rotated"),
    ("aws.secret.key := \"", "\"\n"),
];

rule_cases! {
    rule_aws_secret_key: case! {
        class: "aws-secret-key",
        token: re("[A-Za-z0-9/+]{40}"),
        contexts: AWS_SECRET,
        samples: ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Zr3vTKE"],
        near_misses: [
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}",
            "aws_region = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Zr3vTKEY",
        ],
        weaken: ("{40}", "{39}"),
    };
    rule_gcp_private_key_id: case! {
        class: "gcp-private-key-id",
        token: re("[0-9a-f]{40}"),
        contexts: &[
            ("{\"private_key_id\": \"", "\","),
            ("private_key_id=", "\n"),
            ("private_key_id: ", "\n"),
            ("\"private_key_id\":\"", "\"}"),
            ("PRIVATE_KEY_ID = \"", "\""),
            ("  private_key_id: \'", "\'\n"),
            ("(private_key_id=", ")"),
            ("private_key_id : ", " # sa"),
            ("export PRIVATE_KEY_ID=", "; run"),
            ("{ private_key_id: \"", "\" }"),
        ],
        samples: ["3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea"],
        near_misses: [
            "\"private_key_id\": \"3f5fb85967\"",
            "\"client_id\": \"3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea\"",
        ],
        weaken: ("{40}", "{39}"),
    };
    rule_azure_storage_key: case! {
        class: "azure-storage-key",
        token: re("[A-Za-z0-9+/]{86}=="),
        contexts: &[
            ("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=", ";EndpointSuffix=core.windows.net"),
            ("Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=", ""),
            ("AccountKey=", "\n"),
            ("\"AccountKey = ", "\""),
            ("accountkey=", ";"),
            ("(SharedAccessKey=", ")"),
            ("conn: AccountName=a;AccountKey=", " # prod"),
            ("<c>AccountKey=", "</c>"),
            ("[\"AccountKey=", "\",\n"),
            ("SharedAccessKey =", "\r\n"),
        ],
        samples: ["AWIRh/JUqBlIFXZ53Ncqe28+ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF8EFd0Nhcy/1kGD2VD/eR1UYza=="],
        near_misses: ["AccountKey=short", "AccountName=acmestorageaccountname"],
        weaken: ("AccountKey|SharedAccessKey", "AccountKey"),
    };
    rule_azure_ad_client_secret: case! {
        class: "azure-ad-client-secret",
        token: re("[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}"),
        contexts: CONTEXTS,
        samples: ["abc8Q~Zq3Xv8Lm2Pw9Rt5Yk1Hd7Jc4Nb6Gf0Sa2U"],
        near_misses: ["abc8Q~short", "abcdQ~Zq3Xv8Lm2Pw9Rt5Yk1Hd7Jc4Nb6Gf0Sa2U"],
        weaken: ("{31,34}", "{32,34}"),
    };
    rule_terraform_cloud_token: case! {
        class: "terraform-cloud-token",
        token: re(r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["acme.atlasv1.short"],
        weaken: ("{60,70}", "{61,70}"),
    };
    rule_cloudflare_origin_ca_key: case! {
        class: "cloudflare-origin-ca-key",
        token: re(r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["v1.0-abc-def"],
        weaken: ("{146}", "{145}"),
    };
    rule_onepassword_secret_key: case! {
        class: "onepassword-secret-key",
        token: re(r"A3-[A-Z0-9]{6}-([A-Z0-9]{6}|[A-Z0-9]{11})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"),
        contexts: CONTEXTS,
        samples: ["A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM-H43EB"],
        near_misses: ["A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM"],
        weaken: ("|[A-Z0-9]{11}", ""),
    };
    rule_firebase_cloud_messaging_key: case! {
        class: "firebase-cloud-messaging-key",
        token: re(r"AAAA[A-Za-z0-9_-]{7}:[A-Za-z0-9_-]{140}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["AAAAabc:def"],
        weaken: ("{140}", "{139}"),
    };
    rule_openai_legacy_key: case! {
        class: "openai-legacy-key",
        token: re("sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}"),
        contexts: CONTEXTS,
        samples: ["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"],
        near_misses: ["sk-NicHTp8hkqdlm7tOtHWnT3BlbkFJsCGRlrwZbqcabUGJmGE", "risk-free"],
        weaken: ("{20}\\b", "{19}\\b"),
    };
    rule_jwt: case! {
        class: "jwt",
        token: re(r"eyJ[A-Za-z0-9_-]{10,40}\.ey[A-Za-z0-9_-]{10,80}\.[A-Za-z0-9_-]{0,86}"),
        contexts: CONTEXTS,
        samples: ["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"],
        near_misses: ["eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.notjson.sig", "eyJ.eyJ.x"],
        weaken: ("eyJ[A-Za-z0-9_-]", "eyJ[A-Za-z0-9]"),
    };
    rule_slack_webhook: case! {
        class: "slack-webhook",
        token: re(r"https://hooks\.slack\.com/services/T[A-Z0-9]{8,10}/B[A-Z0-9]{8,10}/[A-Za-z0-9]{24}"),
        contexts: CONTEXTS,
        samples: ["https://hooks.slack.com/services/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"],
        near_misses: ["https://hooks.slack.com/services/", "https://api.slack.com/messaging/webhooks"],
        weaken: ("/_-]{20,}", "/_-]{20,40}"),
    };
    rule_discord_webhook: case! {
        class: "discord-webhook",
        token: re(r"https://discord\.com/api/webhooks/[0-9]{18}/[A-Za-z0-9_-]{68}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["https://discord.com/api/webhooks/123"],
        weaken: ("{60,68}", "{60,67}"),
    };
    rule_teams_webhook: case! {
        class: "teams-webhook",
        token: re(concat!(
            r"https://acme\.webhook\.office\.com/webhookb2/",
            "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}@",
            "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}/IncomingWebhook/[a-f0-9]{32}/",
            "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}",
        )),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["https://acme.webhook.office.com/webhookb2/"],
        weaken: ("@/-]{60,}", "/-]{60,}"),
    };
    rule_discord_bot_token: case! {
        class: "discord-bot-token",
        token: re(r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["MTA.abc.def", "Readme.md.backup"],
        weaken: ("{27,38}", "{28,38}"),
    };
    rule_telegram_bot_token: case! {
        class: "telegram-bot-token",
        token: re(r"[0-9]{8,10}:AA[A-Za-z0-9_-]{33}"),
        contexts: CONTEXTS,
        samples: ["110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"],
        near_misses: ["110201543:AAHdqTcv", "12:30:AA"],
        weaken: ("{8,10}", "{9,10}"),
    };
    rule_mailchimp_key: case! {
        class: "mailchimp-key",
        token: re("[0-9a-f]{32}-us[0-9]{1,2}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["0123abcd-us1"],
        weaken: ("{1,2}", "{2}"),
    };
    rule_braintree_token: case! {
        class: "braintree-token",
        token: re(r"access_token\$(production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["access_token$production$abc"],
        weaken: ("production|sandbox", "production"),
    };
    rule_flutterwave_secret_key: case! {
        class: "flutterwave-secret-key",
        token: re("FLWSECK(_TEST)?-[a-h0-9]{32}-X"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["FLWSECK-abc-X", "FLWPUBK-0123abcd0123abcd0123abcd0123abcd-X"],
        weaken: ("(?:_TEST)?", ""),
    };
    rule_plaid_access_token: case! {
        class: "plaid-access-token",
        token: re("access-(sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["access-production-logs"],
        weaken: ("|development", ""),
    };
    rule_dynatrace_token: case! {
        class: "dynatrace-token",
        token: re(r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["dt0c01.ABC.DEF"],
        weaken: ("{64}", "{63}"),
    };
    rule_airtable_token: case! {
        class: "airtable-token",
        token: re(r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["path.to.file"],
        weaken: ("{64}", "{63}"),
    };
    rule_asana_token: case! {
        class: "asana-token",
        token: re(r"[0-9]/[0-9]{16}:[a-f0-9]{32}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["1/2 done"],
        weaken: ("{16}", "{15}"),
    };
    rule_sourcegraph_token: case! {
        class: "sourcegraph-token",
        token: re("sgp_([a-f0-9]{16}|local)_[a-f0-9]{40}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["sgp_local_abc"],
        weaken: ("|local", ""),
    };
    rule_brevo_key: case! {
        class: "brevo-key",
        token: re("x(keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["xkeysib-0123abcd-short"],
        weaken: ("keysib|smtpsib", "keysib"),
    };
    rule_postman_key: case! {
        class: "postman-key",
        token: re("PMAK-[a-f0-9]{24}-[a-f0-9]{34}"),
        contexts: CONTEXTS,
        samples: ["PMAK-49ddb14f71010b93b7d946bf-54074e3248c801bef750110c57513064d6"],
        near_misses: ["PMAK-49ddb14f71010b93b7d946bf-54074e3248c801bef750110c57513064d"],
        weaken: ("{34}", "{33}"),
    };
    rule_hubspot_private_app_token: case! {
        class: "hubspot-private-app-token",
        token: re("pat-(na|eu)1-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"),
        contexts: CONTEXTS,
        samples: [],
        near_misses: ["pat-na1-1234", "pat-xx1-01234567-89ab-cdef-0123-456789abcdef"],
        weaken: ("(?:na|eu)", "(?:na)"),
    };
    rule_registry_auth: case! {
        class: "registry-auth",
        token: re("[A-Za-z0-9+/]{12,60}={0,2}"),
        contexts: &[
            ("{\"auths\": {\"ghcr.io\": {\"auth\": \"", "\"}}}"),
            ("//registry.npmjs.org/:_auth=", "\n"),
            ("_auth = ", ""),
            ("\"auth\":\"", "\""),
            ("  \"auth\" : \"", "\",\n"),
            ("_auth=", " "),
            ("{\"auth\": \"", "\", \"email\": \"x\"}"),
            ("@acme:_auth=", "\r\n"),
            ("[\"auth\": \"", "\"]"),
            ("//npm.pkg.github.com/:_auth = ", "\n"),
        ],
        samples: ["ZGVwbG95OnMzY3IzdC1QYXNzdzByZA=="],
        near_misses: ["\"auth\": \"none\"", "oauth=abcdefghijkl"],
        weaken: ("{8,}", "{8,11}"),
    };
}

//! User tokens and account fields come from anyone: arbitrary input must give an answer, never a
//! panic, and only a token signed with the secret may verify.

use proptest::prelude::*;
use quadrat_core::jwt::{self, UserClaims};
use quadrat_core::users::{check_new_password, parse_email, parse_name};

const SECRET: &[u8] = b"the test secret, 32 bytes long!!";
const NOW: i64 = 1_780_000_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn verify_takes_any_string(token in ".{0,200}") {
        let _ = jwt::verify(&token, SECRET, NOW);
    }

    #[test]
    fn verify_takes_any_segments(
        a in "[A-Za-z0-9_=-]{0,80}",
        b in "[A-Za-z0-9_=-]{0,120}",
        c in "[A-Za-z0-9_=-]{0,60}",
    ) {
        let token = format!("{a}.{b}.{c}");
        prop_assert!(jwt::verify(&token, SECRET, NOW).is_err());
    }

    #[test]
    fn only_the_secret_signs(sub in ".{0,40}", other in prop::collection::vec(any::<u8>(), 0..64)) {
        let token = jwt::sign(&UserClaims::new(&sub, "j", "i", NOW), SECRET);
        prop_assert!(jwt::verify(&token, SECRET, NOW).is_ok());
        prop_assume!(other != SECRET);
        prop_assert!(jwt::verify(&token, &other, NOW).is_err());
    }

    #[test]
    fn account_fields_take_any_text(s in ".{0,300}") {
        if let Ok(email) = parse_email(&s) {
            prop_assert_eq!(parse_email(&email).ok(), Some(email.clone()));
        }
        let _ = parse_name(&s);
        let _ = check_new_password(&s, &s);
    }
}

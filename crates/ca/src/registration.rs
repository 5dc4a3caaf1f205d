//! Registration codes for RegisterCACertificate's proof of possession.

use ring::rand::{SecureRandom, SystemRandom};

/// A registration code: 64 lowercase hex characters (256 bits) from the OS CSPRNG, as AWS
/// returns from GetRegistrationCode.
pub fn new_registration_code() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source failing is not something a caller can recover from.
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the OS random number generator failed");
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_64_lowercase_hex_and_differ() {
        let a = new_registration_code();
        let b = new_registration_code();
        assert_eq!(a.len(), 64);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
        assert_ne!(a, b);
    }
}

//! The flags a registered option can carry (docs/design.md "Registered options").
//!
//! A tiny bitset rather than a dependency: four flags, each with a stable
//! lowercase name used in `registry.json` and in `GET /v1/options`.

/// A set of option flags. The empty set is the default: an ordinary option,
/// settable at runtime, read through the stores, then config, then default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u8);

/// A flag name that is not one of [`Flags::NAMED`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown flag {0:?} (expected one of immutable, nostore, storeonly, credential)")]
pub struct UnknownFlag(pub String);

impl Flags {
    /// No flags.
    pub const NONE: Flags = Flags(0);
    /// No runtime set or delete: the value comes from config or the default
    /// (or a store value written out of band); writes answer `immutable`.
    pub const IMMUTABLE: Flags = Flags(1 << 0);
    /// Never touches the network cache or the origin: the value is the config
    /// value or the default; writes answer `nostore`.
    pub const NOSTORE: Flags = Flags(1 << 1);
    /// Config values are ignored: the value is the store value or the default.
    pub const STOREONLY: Flags = Flags(1 << 2);
    /// The value is a secret: never shown in clear without the admin token,
    /// and never written into messages or logs.
    pub const CREDENTIAL: Flags = Flags(1 << 3);

    /// Every single flag with its stable name, in the order [`Flags::names`] uses.
    pub const NAMED: [(Flags, &'static str); 4] = [
        (Flags::IMMUTABLE, "immutable"),
        (Flags::NOSTORE, "nostore"),
        (Flags::STOREONLY, "storeonly"),
        (Flags::CREDENTIAL, "credential"),
    ];

    /// Whether every flag of `other` is set here.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags of both sets.
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The stable lowercase names of the flags set, in a fixed order
    /// (immutable, nostore, storeonly, credential).
    pub fn names(self) -> Vec<&'static str> {
        Flags::NAMED.iter().filter(|(flag, _)| self.contains(*flag)).map(|(_, name)| *name).collect()
    }

    /// The single flag with this exact lowercase name, if any.
    pub fn parse(name: &str) -> Option<Flags> {
        Flags::NAMED.iter().find(|(_, n)| *n == name).map(|(flag, _)| *flag)
    }

    /// The set named by a list of flag names. Repeating a name is harmless.
    ///
    /// # Errors
    ///
    /// [`UnknownFlag`] for the first name that is not a flag.
    pub fn from_names<'a, I>(names: I) -> Result<Flags, UnknownFlag>
    where
        I: IntoIterator<Item = &'a str>,
    {
        names.into_iter().try_fold(Flags::NONE, |acc, name| {
            Flags::parse(name).map(|flag| acc.union(flag)).ok_or_else(|| UnknownFlag(name.to_owned()))
        })
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

impl std::ops::BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        *self = self.union(rhs);
    }
}

/// Serialized as the list of names, as `GET /v1/options` shows it.
impl serde::Serialize for Flags {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_names() {
        let all = Flags::IMMUTABLE | Flags::NOSTORE | Flags::STOREONLY | Flags::CREDENTIAL;
        assert_eq!(all.names(), ["immutable", "nostore", "storeonly", "credential"]);
        assert_eq!(Flags::from_names(all.names()), Ok(all));
        for (flag, name) in Flags::NAMED {
            assert_eq!(flag.names(), [name]);
            assert_eq!(Flags::parse(name), Some(flag));
        }
    }

    #[test]
    fn empty_list_is_no_flags() {
        let none = Flags::from_names([]).unwrap();
        assert!(none.is_empty());
        assert_eq!(none, Flags::default());
        assert!(none.names().is_empty());
    }

    #[test]
    fn names_come_out_in_a_fixed_order_whatever_the_input_order() {
        let f = Flags::from_names(["credential", "immutable", "credential"]).unwrap();
        assert_eq!(f.names(), ["immutable", "credential"]);
    }

    #[test]
    fn unknown_flag_name_is_an_error() {
        assert_eq!(Flags::from_names(["nostore", "secret"]), Err(UnknownFlag("secret".into())));
        assert_eq!(Flags::parse("NOSTORE"), None);
        assert!(UnknownFlag("x".into()).to_string().contains("unknown flag \"x\""));
    }

    #[test]
    fn contains_checks_every_bit_of_the_argument() {
        let f = Flags::IMMUTABLE | Flags::CREDENTIAL;
        assert!(f.contains(Flags::IMMUTABLE));
        assert!(f.contains(Flags::CREDENTIAL));
        assert!(f.contains(Flags::IMMUTABLE | Flags::CREDENTIAL));
        assert!(!f.contains(Flags::NOSTORE));
        assert!(!f.contains(Flags::IMMUTABLE | Flags::NOSTORE));
        assert!(f.contains(Flags::NONE));
    }

    #[test]
    fn serializes_as_a_list_of_names() {
        let f = Flags::NOSTORE | Flags::IMMUTABLE;
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"["immutable","nostore"]"#);
    }
}

//! The machinery behind the code enums (track, status, transport, weekday).
//!
//! Each enum has one code that the API speaks (`e_bike`) and aliases it also accepts on input
//! (`elektrische fiets`). Input is compared after [`alias_key`](crate::text::alias_key), so
//! case, accents, `-`, `_` and extra spaces never matter.

/// Declares a code enum with its codes, aliases, `Display`, `FromStr` and serde as the code.
macro_rules! code_enum {
    (
        $(#[$doc:meta])*
        $name:ident, $field:literal, $what:literal {
            $( $(#[$vdoc:meta])* $variant:ident = $code:literal $([$($alias:literal),*])? ),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vdoc])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code the API speaks.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// The code and every alias accepted on input.
            pub fn names(self) -> &'static [&'static str] {
                match self {
                    $($name::$variant => &[$code $($(, $alias)*)?]),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::Error;

            fn from_str(s: &str) -> $crate::Result<Self> {
                // The code as the API and our exports write it: no folding needed.
                if let Some(v) = Self::ALL.iter().copied().find(|v| v.code() == s) {
                    return Ok(v);
                }

                // Every alias's key, folded once per process.
                static KEYS: std::sync::OnceLock<Vec<($name, String)>> =
                    std::sync::OnceLock::new();
                let keys = KEYS.get_or_init(|| {
                    Self::ALL
                        .iter()
                        .flat_map(|v| {
                            v.names().iter().map(|n| (*v, $crate::text::alias_key(n)))
                        })
                        .collect()
                });

                let key = $crate::text::alias_key(s);
                keys.iter()
                    .find(|(_, k)| *k == key)
                    .map(|(v, _)| *v)
                    .ok_or_else(|| {
                        let codes: Vec<&str> = Self::ALL.iter().map(|v| v.code()).collect();
                        $crate::Error::invalid(
                            $field,
                            s,
                            format!("is not a known {} (one of {})", $what, codes.join(", ")),
                        )
                    })
            }
        }
    };
}

pub(crate) use code_enum;

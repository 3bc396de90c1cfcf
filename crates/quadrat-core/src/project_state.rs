//! A project's states: its status, access and visibility, and the settings that change them.
//! Each value is spelt in exactly one place, its `as_str`; everything else (the definition
//! validator, the store, the CLI, the routes) goes through these types.

use std::fmt;
use std::str::FromStr;

use crate::Ec5Error;

/// What every kind of state offers, for code that handles any of them (parsers, messages).
pub trait ProjectState: Copy + Eq + Sized + 'static {
    /// What the value says about a project (`status`, `access`, `visibility`): its field in
    /// the definition, its column in the store.
    const FIELD: &'static str;
    /// Every value, in the order messages list them.
    const ALL: &'static [Self];

    fn as_str(self) -> &'static str;

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == text)
    }
}

/// An enum of states with each value's word, its one `as_str` and `parse`, `Display` and
/// `FromStr`.
macro_rules! project_state {
    (
        $(#[$doc:meta])*
        $name:ident: $field:literal {
            $($(#[$vdoc:meta])* $variant:ident => $word:literal,)+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in the order messages list them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The word that stores and shows the value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }

            /// The value `text` spells (exactly, as stored), if any.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl ProjectState for $name {
            const FIELD: &'static str = $field;
            const ALL: &'static [Self] = $name::ALL;

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                $name::parse(s).ok_or_else(|| UnknownValue::new($name::ALL, s))
            }
        }
    };
}

project_state! {
    /// A project's lifecycle. Trashed and archived projects are gone for every client; a locked
    /// one can be read but takes no uploads.
    ProjectStatus: "status" {
        Active => "active",
        Trashed => "trashed",
        Locked => "locked",
        /// Set by the real server when a project is deleted there; never set by Quadrat or a
        /// definition file, but honoured where a project carries it.
        Archived => "archived",
    }
}

impl ProjectStatus {
    /// The statuses a definition file or an administrator may give a project.
    pub const SETTABLE: &'static [ProjectStatus] = &[
        ProjectStatus::Active,
        ProjectStatus::Trashed,
        ProjectStatus::Locked,
    ];

    pub fn is_settable(self) -> bool {
        self != ProjectStatus::Archived
    }

    /// The statuses a project manager may move a project to from this one, as the real
    /// settings page offers them (the real server itself checks nothing): an active project can
    /// be trashed or locked; a trashed one restored; a locked one unlocked. Deleting a trashed
    /// project is a separate step.
    pub fn next_statuses(self) -> &'static [ProjectStatus] {
        match self {
            ProjectStatus::Active => &[ProjectStatus::Trashed, ProjectStatus::Locked],
            ProjectStatus::Trashed | ProjectStatus::Locked => &[ProjectStatus::Active],
            ProjectStatus::Archived => &[],
        }
    }

    /// Trashed and archived projects do not exist as far as any client is concerned.
    pub fn is_gone(self) -> bool {
        matches!(self, ProjectStatus::Trashed | ProjectStatus::Archived)
    }
}

project_state! {
    /// Who may see a project's data: anyone, or its members (and its client app).
    ProjectAccess: "access" {
        Public => "public",
        Private => "private",
    }
}

project_state! {
    /// Whether the project is listed on the server's project pages.
    ProjectVisibility: "visibility" {
        Listed => "listed",
        Hidden => "hidden",
    }
}

project_state! {
    /// Which setting an administrator changes (the words are the fields').
    SettingField: "field" {
        Access => "access",
        Visibility => "visibility",
        Status => "status",
    }
}

/// A new value for one setting. The same value is written to the project's row and inside its
/// stored definition and extra.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProjectSetting {
    Access(ProjectAccess),
    Visibility(ProjectVisibility),
    Status(ProjectStatus),
}

impl ProjectSetting {
    /// `value` for `field`, as typed by an administrator: only the values a definition may
    /// hold (no `archived`).
    pub fn parse(field: SettingField, value: &str) -> Result<ProjectSetting, UnknownValue> {
        match field {
            SettingField::Access => value.parse().map(ProjectSetting::Access),
            SettingField::Visibility => value.parse().map(ProjectSetting::Visibility),
            SettingField::Status => ProjectStatus::parse(value)
                .filter(|s| s.is_settable())
                .map(ProjectSetting::Status)
                .ok_or_else(|| UnknownValue::new(ProjectStatus::SETTABLE, value)),
        }
    }

    pub fn field(self) -> SettingField {
        match self {
            ProjectSetting::Access(_) => SettingField::Access,
            ProjectSetting::Visibility(_) => SettingField::Visibility,
            ProjectSetting::Status(_) => SettingField::Status,
        }
    }

    /// The value as stored.
    pub fn value(self) -> &'static str {
        match self {
            ProjectSetting::Access(v) => v.as_str(),
            ProjectSetting::Visibility(v) => v.as_str(),
            ProjectSetting::Status(v) => v.as_str(),
        }
    }
}

/// A word that is none of a state's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    field: &'static str,
    value: String,
    allowed: Vec<&'static str>,
}

impl UnknownValue {
    fn new<S: ProjectState>(allowed: &[S], value: &str) -> UnknownValue {
        UnknownValue {
            field: S::FIELD,
            value: value.to_string(),
            allowed: allowed.iter().map(|v| v.as_str()).collect(),
        }
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:?} is not one of {}",
            self.field,
            self.value,
            self.allowed.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

/// `ec5_29` (not one of the allowed values), the sentence as its source.
impl From<UnknownValue> for Ec5Error {
    fn from(e: UnknownValue) -> Self {
        Ec5Error::new("ec5_29", e.to_string())
    }
}

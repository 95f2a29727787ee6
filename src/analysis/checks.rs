//! The guide's content checks: what a careful coach tells a candidate is missing or wrong in what
//! an answer says. A finding's code in reports, JSON and the corpus is its check's `name()`; the
//! names are spelt here and nowhere else.

use super::part::Role;

/// One content check. Frameworks list the ones that apply to them; the judge decides each one
/// with a model of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentCheck {
    /// The failure is told as the team's and the speaker's own decisions never appear.
    TeamOnly,
    /// The cause is put on others or on circumstances.
    Blame,
    /// Nothing says what the speaker did or did not do.
    NoOwnership,
    /// Nothing really went wrong in the end.
    TurnedOutFine,
    /// The "failure" is a strength in disguise.
    NonFailure,
    /// A change is named but nothing shows it worked.
    NoEvidence,
    /// No specific changed behaviour, only general lessons.
    NoConcreteChange,
    /// An old story, with no reason given for choosing it.
    OldFailure,
    /// The background crowds out the speaker's role and learning.
    ContextHeavy,
}

impl ContentCheck {
    /// Every check, in the order reports give them.
    pub const ALL: [ContentCheck; 9] = [
        ContentCheck::TeamOnly,
        ContentCheck::Blame,
        ContentCheck::NoOwnership,
        ContentCheck::TurnedOutFine,
        ContentCheck::NonFailure,
        ContentCheck::NoEvidence,
        ContentCheck::NoConcreteChange,
        ContentCheck::OldFailure,
        ContentCheck::ContextHeavy,
    ];

    /// The finding's code, as reports, JSON and the corpus spell it.
    pub const fn name(self) -> &'static str {
        match self {
            ContentCheck::TeamOnly => "team_only",
            ContentCheck::Blame => "blame",
            ContentCheck::NoOwnership => "no_ownership",
            ContentCheck::TurnedOutFine => "turned_out_fine",
            ContentCheck::NonFailure => "non_failure",
            ContentCheck::NoEvidence => "no_evidence",
            ContentCheck::NoConcreteChange => "no_concrete_change",
            ContentCheck::OldFailure => "old_failure",
            ContentCheck::ContextHeavy => "context_heavy",
        }
    }

    /// The check a code names, if it names one.
    pub fn from_name(code: &str) -> Option<ContentCheck> {
        ContentCheck::ALL.into_iter().find(|c| c.name() == code)
    }

    /// Whether a finding's code is a content check's (and not, say, a delivery finding's).
    pub fn is_content(code: &str) -> bool {
        ContentCheck::from_name(code).is_some()
    }

    /// The roles a framework's parts must play for the check to make sense: its messages speak
    /// of "the story", "the learning" and so on.
    pub(crate) fn needs(self) -> &'static [Role] {
        match self {
            ContentCheck::TeamOnly | ContentCheck::Blame | ContentCheck::NoOwnership => {
                &[Role::Ownership]
            }
            ContentCheck::TurnedOutFine
            | ContentCheck::NoEvidence
            | ContentCheck::NoConcreteChange => &[Role::Change],
            ContentCheck::NonFailure | ContentCheck::OldFailure => &[],
            ContentCheck::ContextHeavy => &[Role::Story, Role::Ownership, Role::Change],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_is_found_by_its_name_and_no_other() {
        for check in ContentCheck::ALL {
            assert_eq!(ContentCheck::from_name(check.name()), Some(check));
        }
        assert_eq!(ContentCheck::from_name("too_long"), None);
        assert!(!ContentCheck::is_content("not_judged"));
    }
}

//! The Epicollect5 status codes and their exact English titles (`config/epicollect/codes.php`).

use serde::Serialize;

/// `(code, title)` for every code Quadrat answers with. Titles are byte-exact copies of the real
/// server's, because clients compare them.
const TITLES: &[(&str, &str)] = &[
    ("ec5_11", "Project does not exist."),
    ("ec5_12", "User could not be authenticated."),
    ("ec5_14", "No data attribute found in json structure."),
    ("ec5_15", "Form does not exist."),
    (
        "ec5_17",
        "A required owner entry for this branch does not exist.",
    ),
    ("ec5_18", "A required parent form does not exist."),
    ("ec5_19", "A required parent form entry does not exist."),
    ("ec5_20", "JSON missing attribute."),
    ("ec5_21", "Required field is missing."),
    ("ec5_22", "Answer is not unique."),
    ("ec5_25", "Possible answer not matched."),
    ("ec5_27", "Number format incorrect."),
    ("ec5_28", "Value outside range."),
    ("ec5_29", "Value invalid."),
    ("ec5_30", "Location data not valid."),
    ("ec5_34", "User not found."),
    ("ec5_36", "User password or email incorrect."),
    (
        "ec5_37",
        "Too many failed login attempts made. Please try again later.",
    ),
    ("ec5_41", "Email address must be unique."),
    ("ec5_42", "Email address is not correct."),
    ("ec5_43", "Length too short"),
    ("ec5_44", "Value too long"),
    ("ec5_45", "Data could not be inserted into the database."),
    (
        "ec5_46",
        "A required entry for a media file does not exist. Please try to un-sync all your entries and upload again. This usually happens when the data entry for the file is not found on the server.",
    ),
    ("ec5_47", "File format incorrect."),
    ("ec5_53", "Entry invalid."),
    ("ec5_54", "User not authorised to edit this entry."),
    ("ec5_60", "missing keys in structure"),
    ("ec5_62", "Invalid JSON structure."),
    ("ec5_63", "Invalid json project details."),
    ("ec5_65", "Invalid json form input."),
    ("ec5_66", "Empty project or no project form."),
    ("ec5_67", "No forms in this project."),
    ("ec5_68", "No questions in this form."),
    ("ec5_69", "No File Uploaded."),
    ("ec5_70", "Please log in to access this project."),
    ("ec5_71", "You need permission to view this project."),
    ("ec5_76", "There was a problem with one of the answers."),
    ("ec5_77", "This project is private. Please log in."),
    (
        "ec5_78",
        "This project is private. \n You need permission to access it.",
    ),
    ("ec5_79", "Date/time format incorrect"),
    ("ec5_80", "Question answer missing."),
    ("ec5_81", "File type incorrect."),
    ("ec5_83", "File could not be saved."),
    ("ec5_84", "Question does not exist."),
    ("ec5_85", "Project name already exists."),
    ("ec5_87", "Format not matched."),
    ("ec5_88", "User added to project."),
    ("ec5_89", "User removed from project."),
    ("ec5_90", "The user does not exist."),
    ("ec5_91", "Sorry, you cannot perform this operation."),
    ("ec5_96", "Entry could not be deleted."),
    ("ec5_99", "Branch does not exist"),
    ("ec5_103", "Unknown error."),
    ("ec5_114", "Project deleted."),
    (
        "ec5_116",
        "Server error, please try again later. If the problem persists, please contact support.",
    ),
    ("ec5_123", "Settings updated."),
    ("ec5_201", "Project version out of date."),
    ("ec5_202", "This project is locked."),
    ("ec5_205", "Please remove invalid chars"),
    ("ec5_206", "File size too large."),
    ("ec5_207", "Invalid question jumps."),
    ("ec5_211", "Too many titles added."),
    ("ec5_214", "The answer is too long."),
    ("ec5_215", "Minimum allowed value not met."),
    ("ec5_216", "Maximum allowed value exceeded."),
    ("ec5_217", "You cannot change your own project role."),
    ("ec5_219", "Page not found."),
    ("ec5_220", "No < or > chars allowed."),
    ("ec5_224", "Duplicate Value found."),
    (
        "ec5_225",
        "Maximum number of maps allowed reached. Please delete a mapping first.",
    ),
    ("ec5_226", "Failed. Please contact support."),
    ("ec5_227", "Reserved Word, cannot use anything with ec5_ "),
    ("ec5_228", "Mapping name already exists."),
    (
        "ec5_229",
        "Sorry, you have reached the max number of allowed maps.",
    ),
    ("ec5_230", "This map doesn't exist."),
    ("ec5_232", "File is currently being written to."),
    ("ec5_233", "Mapped question invalid."),
    ("ec5_234", "Mapping key already exists."),
    ("ec5_235", "'EC5' is a reserved word."),
    ("ec5_236", "Entry successfully deleted"),
    ("ec5_237", "Entry successfully uploaded."),
    ("ec5_238", "Sorry, you cannot edit this map."),
    ("ec5_239", "This entry does not exist."),
    ("ec5_241", "Project Role Updated."),
    ("ec5_242", "File Temporarily Uploaded"),
    ("ec5_243", "Invalid input ref"),
    ("ec5_244", "The question is too long."),
    ("ec5_245", "You cannot have two forms with the same name."),
    ("ec5_246", "The form name is missing."),
    ("ec5_249", "Answer unique."),
    (
        "ec5_250",
        "Entries Limit Reached. Please contact the Project Manager to add entries.",
    ),
    (
        "ec5_251",
        "The number of entries already collected exceeds the limit. Please set a higher limit.",
    ),
    (
        "ec5_252",
        "The website is currently undergoing maintenance. Please try again later.",
    ),
    ("ec5_253", "Invalid client credentials."),
    (
        "ec5_254",
        "Could not generate access token. Please contact support.",
    ),
    ("ec5_255", "Too many requests. Try again later."),
    ("ec5_256", "Access denied."),
    ("ec5_257", "Unauthorized client access."),
    (
        "ec5_258",
        "You have already created an App for this project.",
    ),
    ("ec5_259", "Project App Created."),
    ("ec5_260", "Could not create Project App."),
    ("ec5_261", "Unsupported grant type."),
    ("ec5_262", "Too many questions in this form."),
    ("ec5_263", "Too many forms in this project."),
    ("ec5_264", "Invalid question jump reference "),
    ("ec5_265", "Possible answer not matched in jump"),
    ("ec5_268", "'project' value must be array []"),
    ("ec5_269", "Missing 'data' key in structure"),
    ("ec5_281", "Missing 'data.type' key in structure"),
    ("ec5_289", "Missing 'data.id' key in structure"),
    ("ec5_320", "Jumps are not allowed in groups."),
    ("ec5_321", "The Project ref does not match."),
    ("ec5_322", "The mapping requested does not exist"),
    ("ec5_323", "No Emoji allowed."),
    ("ec5_331", "Transfer ownership succeeded."),
    ("ec5_332", "Max image resolution must be 4096 x 4096 px!"),
    ("ec5_333", "Too many search questions!"),
    ("ec5_334", "UUID format invalid"),
    (
        "ec5_335",
        "Max allowed entries limit exceeded! Use a lower `per_page` value.",
    ),
    ("ec5_336", "Missing possible answers for CHECKBOX question!"),
    ("ec5_337", "Missing possible answers for RADIO question!"),
    ("ec5_338", "Missing possible answers for DROPDOWN question!"),
    ("ec5_339", "Wrong default value for question!"),
    ("ec5_340", "Too many possible answers!"),
    ("ec5_341", "Possible answer too long found!"),
    ("ec5_342", "Missing possible answers for SEARCH question!"),
    ("ec5_344", "You can only manage users with a lower role"),
    ("ec5_353", "Missing 'data.project' key in structure"),
    ("ec5_355", "Possible answer 'answer_ref' invalid"),
    ("ec5_357", "Existing entry updated."),
    (
        "ec5_358",
        "Owner uuid for this branch entry does not match.",
    ),
    ("ec5_359", "Parent uuid for this entry does not match."),
    ("ec5_360", "Bulk uploads are disabled."),
    ("ec5_363", "Bulk uploads not allowed."),
    ("ec5_377", "Password too weak!"),
    ("ec5_392", "The regular expression is invalid or malformed."),
    ("ec5_397", "Only one single answer is allowed"),
    ("ec5_398", "Token revoked"),
    ("ec5_399", "Invalid project name"),
    ("ec5_400", "Chunk entries deleted successfully."),
    ("ec5_403", "Logo file size too large. Max file size is :max"),
    ("ec5_407", "Chunk media deleted successfully."),
];

/// The English title of a code, or `None` when the code is not one Quadrat knows.
pub fn title(code: &str) -> Option<&'static str> {
    TITLES.iter().find(|(c, _)| *c == code).map(|(_, t)| *t)
}

/// Every known code with its title, in code order (for `/json/ec5-status-codes/en.json`).
pub fn all() -> impl Iterator<Item = (&'static str, &'static str)> {
    TITLES.iter().copied()
}

/// One element of the `errors` array of the Epicollect5 error envelope. Field order is wire order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ec5Error {
    pub code: String,
    pub title: String,
    pub source: String,
}

impl Ec5Error {
    /// An error for `code` with its table title. A code that is not in the table is a parameterised
    /// sentence, which the real server copies into both `code` and `title`.
    pub fn new(code: &str, source: impl Into<String>) -> Self {
        Ec5Error {
            code: code.to_string(),
            title: title(code).unwrap_or(code).to_string(),
            source: source.into(),
        }
    }
}

impl std::fmt::Display for Ec5Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} (source: {})",
            self.code,
            self.title.trim(),
            self.source
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (code, _) in all() {
            assert!(seen.insert(code), "{code} listed twice");
        }
    }

    #[test]
    fn unknown_code_copies_sentence_into_title() {
        let e = Ec5Error::new("Something happened", "x");
        assert_eq!(e.title, "Something happened");
        assert_eq!(
            Ec5Error::new("ec5_256", "middleware").title,
            "Access denied."
        );
    }
}

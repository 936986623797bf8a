//! What can go wrong when reading text, each said in plain words with what to install.

/// The one line said when Tesseract itself is missing: which packages to install.
pub const INSTALL_HINT: &str = "Reading text needs Tesseract: install the Debian packages \
libtesseract5 and tesseract-ocr-eng (sudo apt install tesseract-ocr tesseract-ocr-eng)";

/// Everything that can stop seesay from reading the text in a picture.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// The Tesseract library could not be loaded at all.
    #[error("{INSTALL_HINT}")]
    MissingLibrary,

    /// The library was found but lacks a function seesay calls (an old or odd build).
    #[error(
        "the Tesseract library found here is too old or incomplete (it has no {symbol}): \
install libtesseract5 (sudo apt install tesseract-ocr tesseract-ocr-eng)"
    )]
    IncompleteLibrary {
        /// The C function that was not found.
        symbol: &'static str,
    },

    /// No English language data was found in any of the places Tesseract keeps it.
    #[error(
        "Reading text needs Tesseract's English data: install the Debian package \
tesseract-ocr-eng (sudo apt install tesseract-ocr-eng); looked in {searched}"
    )]
    MissingLanguage {
        /// The folders that were searched, joined by ", ".
        searched: String,
    },

    /// The data was found but Tesseract refused to start with it.
    #[error(
        "Tesseract could not start with the English data in {dir}: reinstall tesseract-ocr-eng"
    )]
    Init {
        /// The folder holding eng.traineddata.
        dir: String,
    },

    /// Recognition itself reported a failure.
    #[error("Tesseract could not read this picture")]
    Recognize,

    /// The picture has no pixels.
    #[error("the picture is empty (0 pixels), so there is no text to read")]
    Empty,

    /// The picture is larger than Tesseract can take in one piece.
    #[error("the picture is too large to read text from ({width}x{height} pixels)")]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_pieces_are_one_line_naming_the_package() {
        let errors = [
            OcrError::MissingLibrary,
            OcrError::IncompleteLibrary {
                symbol: "TessBaseAPIInit2",
            },
            OcrError::MissingLanguage {
                searched: "/usr/share/tessdata".into(),
            },
            OcrError::Init {
                dir: "/usr/share/tessdata".into(),
            },
        ];
        for e in errors {
            let message = e.to_string();
            assert!(!message.contains('\n'), "{message}");
            assert!(message.contains("tesseract-ocr-eng") || message.contains("libtesseract5"));
        }
        assert!(OcrError::MissingLibrary.to_string().contains("apt install"));
    }
}

//! [`Image`]: an image part for vision models, from bytes, a file or a URL.

use std::fmt;
use std::path::Path;

use base64::Engine as _;

use crate::{Error, Result};

/// An image sent beside the text, as an `image_url` content part.
///
/// Bytes and files are sent inline as `data:` URLs; [`Image::url`] sends a URL for the
/// server to fetch. Only vision models read images (on Dria, the Qwen3.5 models).
///
/// # Examples
///
/// ```
/// use factum::Image;
///
/// let image = Image::from_bytes(b"\x89PNG...", "image/png");
/// assert!(image.as_url().starts_with("data:image/png;base64,"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    url: String,
}

impl Image {
    /// An image from its bytes and MIME type (`image/png`, `image/jpeg`, …).
    pub fn from_bytes(bytes: impl AsRef<[u8]>, mime: &str) -> Image {
        let data = base64::engine::general_purpose::STANDARD.encode(bytes.as_ref());
        Image {
            url: format!("data:{mime};base64,{data}"),
        }
    }

    /// An image read from a file now; the MIME type comes from the extension (`png`,
    /// `jpg`/`jpeg`, `gif`, `webp`, `bmp`, `tif`/`tiff`, `heic`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Image`](crate::ErrorKind::Image) when the file cannot be read, [`ErrorKind::Config`](crate::ErrorKind::Config) when the extension
    /// names no known image type.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Image> {
        let path = path.as_ref();
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let mime = match extension.as_str() {
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "bmp" => "image/bmp",
            "tif" | "tiff" => "image/tiff",
            "heic" => "image/heic",
            _ => {
                return Err(Error::config(format!(
                    "cannot tell the image type of `{}` from its extension; use Image::from_bytes",
                    path.display()
                )));
            }
        };
        let bytes = std::fs::read(path).map_err(|source| Error::image(path, source))?;
        Ok(Image::from_bytes(bytes, mime))
    }

    /// An image the server fetches from `url` (or a `data:` URL you built).
    pub fn url(url: impl Into<String>) -> Image {
        Image { url: url.into() }
    }

    /// The URL sent in the `image_url` part.
    pub fn as_url(&self) -> &str {
        &self.url
    }
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A data URL can be megabytes of base64: show its type and size only.
        if let Some(rest) = self.url.strip_prefix("data:") {
            let mime = rest.split([';', ',']).next().unwrap_or_default();
            write!(f, "Image(data:{mime}, {} bytes)", self.url.len())
        } else {
            f.debug_tuple("Image").field(&self.url).finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn data_url_and_debug() {
        let image = Image::from_bytes([1u8, 2, 3], "image/png");
        assert_eq!(image.as_url(), "data:image/png;base64,AQID");
        assert_eq!(format!("{image:?}"), "Image(data:image/png, 26 bytes)");
    }

    #[test]
    fn path_errors_are_typed() {
        assert!(matches!(
            Image::from_path("x.unknown"),
            Err(e) if e.kind() == ErrorKind::Config
        ));
        assert!(matches!(
            Image::from_path("/nonexistent/x.png"),
            Err(e) if e.kind() == ErrorKind::Image
        ));
    }
}

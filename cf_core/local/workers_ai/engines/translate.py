"""Stand-in translation (m2m100): validates the languages and labels the untranslated text.

m2m100 covers 100 languages by ISO 639 code; the Cloudflare catalog also names ten languages in
words (english, chinese, ...), so both a code and one of those names are accepted (names map to
codes). Anything else is refused with 5006.
"""

from __future__ import annotations

M2M100_CODES = frozenset([
    "af", "am", "ar", "ast", "az", "ba", "be", "bg", "bn", "br", "bs", "ca", "ceb", "cs", "cy", "da",
    "de", "el", "en", "es", "et", "fa", "ff", "fi", "fr", "fy", "ga", "gd", "gl", "gu", "ha", "he",
    "hi", "hr", "ht", "hu", "hy", "id", "ig", "ilo", "is", "it", "ja", "jv", "ka", "kk", "km", "kn",
    "ko", "lb", "lg", "ln", "lo", "lt", "lv", "mg", "mk", "ml", "mn", "mr", "ms", "my", "ne", "nl",
    "no", "ns", "oc", "or", "pa", "pl", "ps", "pt", "ro", "ru", "sd", "si", "sk", "sl", "so", "sq",
    "sr", "ss", "su", "sv", "sw", "ta", "th", "tl", "tn", "tr", "uk", "ur", "uz", "vi", "wo", "xh",
    "yi", "yo", "zh", "zu",
])
LANGUAGE_NAMES = {"english": "en", "chinese": "zh", "french": "fr", "spanish": "es", "arabic": "ar",
                  "russian": "ru", "german": "de", "japanese": "ja", "portuguese": "pt", "hindi": "hi"}


def language_code(value: str) -> str | None:
    lowered = value.strip().lower()
    if lowered in M2M100_CODES:
        return lowered
    return LANGUAGE_NAMES.get(lowered)


def translate(text: str, source: str, target: str) -> dict[str, str]:
    return {"translated_text": f"[stand-in translation {source}->{target}] {text}"}

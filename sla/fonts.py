"""The CJK font of the PDF reports: Noto Sans CJK from Debian's `fonts-noto-cjk` package (an OpenType
collection; face 2 is Simplified Chinese), at `CJK_FONT` or wherever fontconfig put it. The set-up
installs it (scripts/test-deps.sh, scripts/bootstrap.sh); nothing is downloaded at run time."""

from __future__ import annotations

from pathlib import Path

from sla.errors import SlaError

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SIMPLIFIED_CHINESE_FACE = 2


def cjk_font() -> Path:
    if CJK_FONT.exists():
        return CJK_FONT
    found = sorted(Path("/usr/share/fonts").rglob("NotoSansCJK-Regular.ttc"))
    if not found:
        raise SlaError(
            "font",
            "the Chinese font is missing: install Debian's fonts-noto-cjk",
            "缺少中文字体：请安装 Debian 软件包 fonts-noto-cjk",
        )
    return found[0]

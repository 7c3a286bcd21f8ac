"""A small built-in list of passwords attackers try first (the most common ones of public breach
lists, and words of this domain). A password is refused when it, lower-cased and with trailing digits
and punctuation removed, is one of these or contains none but these and digits."""

from __future__ import annotations

COMMON: frozenset[str] = frozenset(
    """
    123456 1234567 12345678 123456789 1234567890 12345678910 0123456789 987654321 111111 000000 666666
    888888 112233 121212 123123 654321 123321 147258369 qwerty qwertyuiop qwerty123 1q2w3e4r 1q2w3e4r5t
    1qaz2wsx qazwsx zaq12wsx asdfgh asdfghjkl zxcvbnm password password1 passw0rd p@ssw0rd p@ssword
    iloveyou princess sunshine monkey dragon football baseball welcome welcome1 letmein abc123 abcd1234
    admin administrator root toor changeme changeit default secret master login guest test test123
    trustno1 superman batman shadow michael jennifer hunter starwars whatever freedom computer internet
    woaini woaini1314 5201314 1314520 aini1314 qq123456 a123456 a12345678 aa123456 abc123456 zhang123
    wang123 li123456 huawei baidu taobao alibaba tencent beijing shanghai china chinese
    itilflow itil incident change release service servicedesk helpdesk support operations bank
    summer winter spring autumn monday january
    """.split()
)

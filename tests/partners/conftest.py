"""CSV text for the registry's tests, as people write it."""

HEADER = "organisation,category,country,pathfinder,action_groups,gcg_member,contact_name,contact_email,language"


def csv_bytes(*rows: str, header: str = HEADER, newline: str = "\n", bom: bool = False) -> bytes:
    text = newline.join([header, *rows]) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")

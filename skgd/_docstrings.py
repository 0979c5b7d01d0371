"""Sharing numpydoc entries between estimators' docstrings, so they are written once."""


def entries(docstring, section):
    """The entries of a numpydoc ``section`` of a class docstring, by name.

    Each entry is its ``name : type`` line and the indented description
    below it, as written.
    """
    lines = docstring.expandtabs().split("\n")
    start = lines.index(f"    {section}") + 2
    found, name = {}, None
    for line in lines[start:]:
        header = line.startswith("    ") and not line.startswith("     ")
        if header and " : " not in line:
            break  # the next section's title
        if header:
            name = line.split(" : ")[0].strip()
            found[name] = []
        found[name].append(line)
    return {name: "\n".join(text).rstrip() for name, text in found.items()}


def fill(docstring, **sections):
    """Replace each line ``    {name}`` of ``docstring`` by ``sections[name]``."""
    for name, text in sections.items():
        docstring = docstring.replace(f"    {{{name}}}", text)
    return docstring

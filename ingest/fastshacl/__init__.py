"""A SHACL checker compiled from the shapes into Python, for the subset the grading rules use.

The grader runs it instead of a general engine on every submission: the rules compile to a few
dictionary look-ups per field, where a general engine loads every triple into its own store
first. It must give the general engines' verdicts, so the tests hold it to pySHACL on every rule
case and sample file and to shifty on a generated corpus of broken records; shapes it does not
implement make the grader use the general engine instead (``shapes.Unsupported``).
"""

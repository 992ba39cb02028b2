"""Names vulture cannot see used (`vulture` reads this file with the package, as
`pyproject.toml` says). Typer commands and pydantic's `model_config` are left out there,
by decorator and by name; each group here says what uses its names."""

# The parser's transformer: lark calls a method for each grammar rule of its name.
_.define_param
_.optional_type
_.list_type
_.map_type
_.ref_type
_.object_type
_.named_type
_.extended
_.id_identity
_.name_identity
_.key_identity
_.global_location
_.severity_level
_.enforcement_level
_.for_each
_.quantifier_word
_.any_of
_.all_of
_.not_member
_.range_op
_.negation_word
_.presence_word
_.located_in
_.attr_segment
_.key_segment
_.star_segment
_.var_segment
_.integer
_.true
_.false
_.list_value
_.index_segment
_.map_value

# Set on objects libraries read: RE2's options, grandalf's layout.
_.log_errors
_.xspace
_.yspace

# pickle calls this hook of the wire format's pickler.
_.reducer_override

# Read from the JSON a user writes, not by name: a snapshot's `account` field.
account

# A library function the suite calls: formatting a text.
format_text

# A constant that names what an empty zone means where pictures test for it.
NO_ZONE

# Known dead code in the Terraform importer (a field set, never read): to leave this list
# when it is removed or read.
unknown_pointer

# The configuration file's reader: the command line is yet to call these.
NONE
skip_rules
effective
params_args
output_args

# rich reads a RegexHighlighter's class attributes: its patterns and their style prefix.
base_style
highlights
wordsep_re  # set on the help wrapper, which textwrap reads

# Python calls a module's __getattr__ and __dir__: the package's names load on first use.
__getattr__
__dir__

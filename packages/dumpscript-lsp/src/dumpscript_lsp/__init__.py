"""dumpscript's language server: the core's transforms and dumps as editor code actions."""

__version__ = "0.1.0"

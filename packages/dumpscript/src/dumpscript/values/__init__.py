"""Field value → LibCST expression.

A registry maps field classes to encoders, looked up along the field class's MRO, so that a
subclass of ``CharField`` is written like a ``CharField``. Register an encoder for your own
field types with :func:`register_encoder`.
"""

from dumpscript.values._encoders import (
    EncodeContext,
    Encoder,
    encode_field_value,
    encode_python,
    encoder_for,
    register_encoder,
)

__all__ = [
    "EncodeContext",
    "Encoder",
    "encode_field_value",
    "encode_python",
    "encoder_for",
    "register_encoder",
]

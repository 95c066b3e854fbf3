"""Generated EXI codecs written for compilation: the twins of the pure modules in ``exi/``.

``tools/gen_exi.py`` writes each from the same grammar as its pure module (``native/din.py`` from
the DIN schema, as ``exi/din.py``; ``native/iso2.py`` from ISO-2's); the build compiles them with
mypyc, each in a group of its own (``_build.py``).  The pure modules stay the
reference, and the faster choice for the interpreter: :mod:`ccs2chademo.exi` uses a twin only when
it is compiled.  docs/perf.md has the figures.
"""

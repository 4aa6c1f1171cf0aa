"""deploy/docker/Dockerfile without a Docker engine: its instructions are
parsed and checked (two Debian 12 stages, the final one non-root with a
health check on /healthz, the ports of the image's config exposed, the data
volume), the build stage copies every folder CMake needs, the runtime stage
installs the package of every shared library the binaries load, and
deploy/docker/build.sh (the build stage's script) builds and installs both
programs on this host."""
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("EVMAIL_BUILD_DIR", ROOT / "build"))
DOCKERFILE = ROOT / "deploy/docker/Dockerfile"
IMAGE_PORTS = {2525, 5587, 4465, 1143, 1993, 8080}
# In every debian:12 image already (Essential or required by apt).
BASE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}


def instructions(text):
    """[(INSTRUCTION, arguments)] of a Dockerfile, continuations joined."""
    out, cur = [], ""
    for line in text.splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        word, _, rest = cur.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    return out


def stages(text):
    """[(FROM arguments, [(INSTRUCTION, arguments)])]."""
    result = []
    for ins, args in instructions(text):
        if ins == "FROM":
            result.append((args, []))
        elif result:
            result[-1][1].append((ins, args))
    return result


def apt_packages(stage):
    """Packages of the stage's apt-get install commands."""
    pkgs = []
    for ins, args in stage:
        if ins == "RUN":
            for cmd in re.split(r"&&|;", args):
                words = shlex.split(cmd)
                if "apt-get" in words and "install" in words:
                    pkgs += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return pkgs


def final_stage_problems(text):
    """What is wrong with the image the Dockerfile makes."""
    problems = []
    st = stages(text)
    if len(st) < 2 or not all(s[0].split()[0] == "debian:12" for s in st):
        problems.append("not a multi-stage build on debian:12")
        return problems
    final = dict()
    for ins, args in st[-1][1]:
        final.setdefault(ins, []).append(args)
    user = final.get("USER", ["root"])[-1].split(":")[0]
    if user in ("root", "0"):
        problems.append("final stage runs as root")
    hc = " ".join(final.get("HEALTHCHECK", []))
    if "/healthz" not in hc or "CMD" not in hc:
        problems.append("no HEALTHCHECK on /healthz")
    exposed = {int(p.split("/")[0]) for a in final.get("EXPOSE", []) for p in a.split()}
    if exposed != IMAGE_PORTS:
        problems.append(f"EXPOSE {sorted(exposed)} != {sorted(IMAGE_PORTS)}")
    if "/var/lib/evmail" not in " ".join(final.get("VOLUME", [])):
        problems.append("no VOLUME /var/lib/evmail")
    copies = " ".join(final.get("COPY", []))
    if "--from=build" not in copies or "evmaild" not in copies or "evmailctl" not in copies:
        problems.append("binaries not copied from the build stage")
    if any(p.endswith("-dev") for p in apt_packages(st[-1][1])):
        problems.append("-dev package in the runtime stage")
    return problems


def test_dockerfile():
    assert final_stage_problems(DOCKERFILE.read_text()) == []


def test_dockerfile_check_finds_mistakes():
    text = DOCKERFILE.read_text()
    assert final_stage_problems(text.replace("USER evmail:evmail", "USER root")) == ["final stage runs as root"]
    assert final_stage_problems(text.replace("/healthz", "/")) == ["no HEALTHCHECK on /healthz"]
    assert final_stage_problems(text.replace("EXPOSE 2525 ", "EXPOSE ")) != []
    assert final_stage_problems(text.replace("curl \\\n", "curl libssl-dev \\\n")) == ["-dev package in the runtime stage"]
    no_user = "\n".join(line for line in text.splitlines() if not line.startswith("USER"))
    assert final_stage_problems(no_user) == ["final stage runs as root"]


def test_build_stage_copies_every_cmake_folder():
    copied = set()
    for ins, args in stages(DOCKERFILE.read_text())[0][1]:
        if ins == "COPY":
            copied.add(args.split()[0].rstrip("/"))
    cmake = (ROOT / "CMakeLists.txt").read_text()
    needed = set(re.findall(r"^add_subdirectory\(([\w/]+)\)", cmake, re.M)) | {"CMakeLists.txt"}
    assert needed <= copied, f"not copied: {needed - copied}"
    assert "deploy/docker/build.sh" in copied


def dpkg_installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return "install ok installed" in r.stdout


def test_package_names_exist_in_debian_12():
    """This host is Debian 12 and has built evmail: every package the
    Dockerfile names is installed here, so the name exists in bookworm."""
    for stage in stages(DOCKERFILE.read_text()):
        for pkg in apt_packages(stage[1]):
            assert dpkg_installed(pkg), f"{pkg} is not a package of this Debian 12 host"


def library_packages(binary):
    """{soname: Debian package} of the libraries binary needs directly."""
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                        subprocess.run(["readelf", "-d", str(binary)], capture_output=True,
                                       text=True, check=True).stdout)
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
    out = {}
    for so in needed:
        real = os.path.basename(os.path.realpath(paths[so]))
        r = subprocess.run(["dpkg-query", "-S", f"*/{real}"], capture_output=True, text=True)
        owners = {line.split(":")[0] for line in r.stdout.splitlines()
                  if line.split(": ", 1)[-1].endswith("/" + real) and ":i386" not in line}
        out[so] = sorted(o for o in owners if "i386" not in o and "lib32" not in o and "libx32" not in o)
    return out


def test_build_sh_and_runtime_libraries(tmp_path):
    """build.sh builds and installs both programs (reusing the build
    directory of this run when there is one); the runtime stage installs
    the package of each library they need."""
    prefix = tmp_path / "prefix"
    args = ["bash", str(ROOT / "deploy/docker/build.sh"), str(ROOT), str(prefix)]
    if (BUILD / "CMakeCache.txt").exists():
        args.append(str(BUILD))
    else:
        args.append(str(tmp_path / "build"))
    r = subprocess.run(args, capture_output=True, text=True, timeout=1800,
                       env={**os.environ, "EVMAIL_JOBS": "2"})
    assert r.returncode == 0, r.stdout + r.stderr
    runtime = set(apt_packages(stages(DOCKERFILE.read_text())[-1][1])) | BASE_PACKAGES
    for prog in ("evmaild", "evmailctl"):
        binary = prefix / "bin" / prog
        assert binary.is_file()
        libs = library_packages(binary)
        assert "librocksdb.so.7.8" in libs or prog == "evmailctl"
        for so, pkgs in libs.items():
            assert pkgs and set(pkgs) & runtime, f"{prog}: {so} ({pkgs}) not installed by the runtime stage"


def test_build_sh_usage():
    r = subprocess.run(["bash", str(ROOT / "deploy/docker/build.sh")], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr

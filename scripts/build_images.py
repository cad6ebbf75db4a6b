"""Build the OCI image of every Airbyte source from this repository, offline and cached (`scripts/build-images`).

Three layers, each tagged by a hash of its inputs, so a run rebuilds only what changed:

1. base: a Debian bookworm rootfs made by `debootstrap --variant=minbase` (python3, python3-venv,
   ca-certificates), apt lists, caches and docs removed, `podman import`ed. No registry is needed.
2. deps: base + /opt/airbyte, a venv holding exactly the third-party wheels uv.lock pins for all five
   taps (`uv export`, downloaded on the host, installed with `--require-hashes --no-index`: pip inside a
   container cannot reach PyPI here). One layer that all five images share.
3. one image per source: deps + the kit and the tap (wheels `uv build` makes), Airbyte's labels and
   AIRBYTE_ENTRYPOINT, a non-root user.

podman needs runc, the cgroupfs manager, explicit ulimits and the host network here: they are in
`containers.conf` under the cache directory, and `CONTAINERS_CONF` points at it (see `container_env`).
Missing tools (podman, runc, podman-docker, debootstrap) are installed with apt-get.

    scripts/build-images [source-gravito ...]    # prints one line per image: name, size
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import typing as t
from pathlib import Path

from sandbox.profiles import all_profiles

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "images"
CACHE = Path(os.environ.get("CONSENT_TAPS_CACHE", Path.home() / ".cache" / "consent-taps"))
CONTAINERS_CONF = CACHE / "containers.conf"
PYTHON_VERSION = "3.11"  # bookworm's python3
PIP = "pip==26.3"  # only downloads the locked wheels on the host; the images install with Debian's pip
# pip download takes platforms literally: every manylinux tag bookworm's glibc 2.36 can run, newest first.
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(36, 16, -1)] + ["manylinux2014_x86_64", "linux_x86_64"]
SOURCES = {vendor.source: vendor.tap for vendor in all_profiles()}  # Airbyte source -> its tap's folder under taps/
APT_TOOLS = {"podman": "podman", "runc": "runc", "debootstrap": "debootstrap", "docker": "podman-docker"}
BASE_RECIPE: dict[str, t.Any] = {  # text settings, and the list of paths to remove
    "suite": "bookworm",
    "mirror": "http://deb.debian.org/debian",
    "variant": "minbase",
    "include": "python3,python3-venv,ca-certificates",
    # What a runtime image never reads: apt's lists and caches, docs, man pages, translations.
    "remove": [
        "var/lib/apt/lists/*",
        "var/cache/apt/*",
        "var/cache/debconf/*-old",
        "var/log/*",
        "usr/share/doc/*",
        "usr/share/man/*",
        "usr/share/info/*",
        "usr/share/locale/*",
    ],
}
CONTAINERS_CONF_TEXT = """\
# podman on these machines: crun cannot set rlimits and cgroups v1 hybrid is unsupported (stack notes).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
netns = "host"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def log(message: str) -> None:
    print(f"build-images: {message}", file=sys.stderr, flush=True)


def container_env() -> dict[str, str]:
    """The environment in which `podman` and podman-docker's `docker` work here (also for the tests)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    if not CONTAINERS_CONF.exists() or CONTAINERS_CONF.read_text() != CONTAINERS_CONF_TEXT:
        CONTAINERS_CONF.write_text(CONTAINERS_CONF_TEXT)
    # /usr/local/bin/docker may be a Docker CLI with no daemon: podman-docker's /usr/bin/docker goes first.
    path = os.pathsep.join(["/usr/sbin", "/usr/bin", os.environ.get("PATH", "")])
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF), "PATH": path}


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("env", container_env())
    return subprocess.run(command, check=True, **kwargs)


def ensure_tools() -> None:
    system_path = "/usr/sbin:/usr/bin:/sbin:/bin"
    missing = sorted({package for tool, package in APT_TOOLS.items() if not shutil.which(tool, path=system_path)})
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"build-images: install {' '.join(missing)} (apt-get install {' '.join(missing)}), then run again")
    log(f"installing {' '.join(missing)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env)


def digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(hashlib.sha256(part).digest())
    return hasher.hexdigest()[:16]


def tree_digest(*folders: Path) -> bytes:
    """Every file a build reads from these folders: path and content (caches and build output left out)."""
    hasher = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            parts = set(path.relative_to(folder).parts)
            if path.is_file() and not parts & {"__pycache__", ".venv", "dist", "build", ".pytest_cache"}:
                hasher.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return hasher.digest()


def image_label(image: str, label: str) -> str | None:
    shown = subprocess.run(
        ["podman", "image", "inspect", "--format", "json", image], capture_output=True, text=True, env=container_env()
    )
    if shown.returncode != 0:
        return None
    return (json.loads(shown.stdout)[0].get("Labels") or {}).get(label)


def base_image() -> str:
    key = digest(json.dumps(BASE_RECIPE, sort_keys=True).encode())
    image = f"localhost/consent-taps/base:bookworm-{key}"
    if image_label(image, "io.consent-taps.inputs") == key:
        return image
    log(f"making the base image {image} with debootstrap (a few minutes, once)")
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="rootfs-") as rootfs:
        recipe = BASE_RECIPE
        run(
            [
                "debootstrap",
                f"--variant={recipe['variant']}",
                f"--include={recipe['include']}",
                recipe["suite"],
                rootfs,
                recipe["mirror"],
            ],
            stdout=subprocess.DEVNULL,
        )
        for pattern in recipe["remove"]:
            for path in Path(rootfs).glob(pattern):
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        tar = subprocess.Popen(["tar", "-C", rootfs, "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        run(
            [
                "podman",
                "import",
                "--change",
                f"LABEL io.consent-taps.inputs={key}",
                "--change",
                "CMD /bin/bash",
                "-",
                image,
            ],
            stdin=tar.stdout,
            stdout=subprocess.DEVNULL,
        )
        if tar.wait() != 0:
            sys.exit("build-images: tar of the debootstrap rootfs failed")
    return image


def podman_build(containerfile: Path, context: Path, image: str, build_args: dict[str, str]) -> None:
    args = [arg for name, value in build_args.items() for arg in ("--build-arg", f"{name}={value}")]
    run(
        [
            "podman",
            "build",
            "--quiet",
            "--network",
            "host",
            "--file",
            str(containerfile),
            *args,
            "--tag",
            image,
            str(context),
        ],
        stdout=subprocess.DEVNULL,
    )


def uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def deps_image(base: str) -> str:
    """base + a venv of exactly the third-party wheels uv.lock pins for the five taps, hashes checked."""
    containerfile = IMAGES / "deps.Containerfile"
    key = digest(base.encode(), (ROOT / "uv.lock").read_bytes(), containerfile.read_bytes())
    image = f"localhost/consent-taps/deps:{key}"
    if image_label(image, "io.consent-taps.inputs") == key:
        return image
    log(f"building {image}: the locked wheels of every tap")
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="deps-") as context:
        wheels = Path(context) / "wheels"
        wheels.mkdir()
        packages = [arg for tap in SOURCES.values() for arg in ("--package", tap)]
        exported = run(
            [
                *uv(),
                "export",
                "--frozen",
                "--no-dev",
                "--no-emit-workspace",
                "--format",
                "requirements-txt",
                "--no-header",
                *packages,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
        (wheels / "requirements.txt").write_text(exported)
        run(
            [
                *uv(),
                "run",
                "--no-project",
                "--with",
                PIP,
                "python",
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                PYTHON_VERSION,
                "--implementation",
                "cp",
                *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
                "--dest",
                str(wheels),
                "--require-hashes",
                "-r",
                str(wheels / "requirements.txt"),
            ],
            cwd=ROOT,
            env={**container_env(), "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""},
        )
        podman_build(containerfile, Path(context), image, {"BASE": base, "INPUTS": key})
    return image


def source_image(deps: str, source: str) -> str:
    tap = SOURCES[source]
    pyproject = tomllib.loads((ROOT / "taps" / tap / "pyproject.toml").read_text())
    version = pyproject["project"]["version"]
    containerfile = IMAGES / "source.Containerfile"
    key = digest(
        deps.encode(),
        source.encode(),
        containerfile.read_bytes(),
        tree_digest(ROOT / "taps" / "tapkit", ROOT / "taps" / tap),
    )
    image = f"localhost/consent-taps/{source}:{version}"
    if image_label(image, "io.consent-taps.inputs") == key:
        return image
    log(f"building {image}")
    with tempfile.TemporaryDirectory(dir=CACHE, prefix=f"{source}-") as context:
        wheels = Path(context) / "wheels"
        for package in ("consent-tapkit", tap):
            run([*uv(), "build", "--quiet", "--package", package, "--wheel", "--out-dir", str(wheels)], cwd=ROOT)
        podman_build(
            containerfile, Path(context), image, {"DEPS": deps, "SOURCE": source, "VERSION": version, "INPUTS": key}
        )
    return image


def image_size(image: str) -> int:
    shown = run(["podman", "image", "inspect", "--format", "{{.Size}}", image], capture_output=True, text=True)
    return int(shown.stdout.strip())


def build(sources: list[str]) -> dict[str, str]:
    """Every requested source's image name (built only where its inputs changed)."""
    ensure_tools()
    deps = deps_image(base_image())
    return {source: source_image(deps, source) for source in sources}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", metavar="SOURCE", help=f"default: every source ({', '.join(SOURCES)})")
    parser.add_argument("--json", action="store_true", help="print {source: image} as JSON")
    args = parser.parse_args()
    unknown = [source for source in args.sources if source not in SOURCES]
    if unknown:
        parser.exit(2, f"build-images: no source named {', '.join(unknown)}; known: {', '.join(SOURCES)}\n")
    try:
        images = build(args.sources or list(SOURCES))
    except subprocess.CalledProcessError as error:
        sys.exit(f"build-images: {' '.join(map(str, error.cmd[:3]))} … failed (exit {error.returncode})")
    if args.json:
        print(json.dumps(images))
        return
    for image in images.values():
        print(f"{image}\t{image_size(image) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()

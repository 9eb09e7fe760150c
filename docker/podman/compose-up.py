#!/usr/bin/env python3
"""Runs docker-compose.yml with plain podman, for machines without a Docker engine.

podman-compose 1.0.3 (Debian bookworm) cannot: it rejects the mapping form of a service's
`networks` ("RuntimeError: missing networks: mail"), which fixed addresses need, and ignores
`enable_ipv6`, `ipam` and `ipv4_address`/`ipv6_address` (docs/containers.md). This script reads
the same file and does what a Compose implementation does for the keys the file uses: build
each image, create the network with its subnets, start the services in `depends_on` order at
their fixed addresses, wait for each healthcheck, wait for the harness, and remove every
container and the network afterwards, also on failure or Ctrl-C. Images are kept (`--rmi`
removes them too).

Usage: compose-up.py [--base-image IMAGE] [--rmi] [--project NAME] [-- HARNESS-ARGS...]
Exit status: the harness container's.
"""
import argparse
import os
import re
import subprocess
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUPPORTED_SERVICE_KEYS = {
    "build", "image", "hostname", "networks", "healthcheck", "environment", "depends_on",
    "privileged", "volumes", "command",
}


def log(message):
    print(f"compose-up: {message}", file=sys.stderr, flush=True)


def podman(*args, check=True, capture=False):
    result = subprocess.run(["podman", *args], text=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.PIPE if capture else None)
    if check and result.returncode != 0:
        detail = (result.stderr or "").strip() if capture else ""
        raise RuntimeError(f"podman {' '.join(args)} exited {result.returncode} {detail}")
    return result


def interpolate(value, environ):
    """${NAME:-default} and ${NAME} as in the Compose specification's interpolation."""
    if isinstance(value, str):
        def replace(match):
            name, default = match.group(1), match.group(3)
            found = environ.get(name)
            return found if found else (default or "")
        return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", replace, value)
    if isinstance(value, list):
        return [interpolate(v, environ) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v, environ) for k, v in value.items()}
    return value


def start_order(services):
    order, seen = [], set()

    def visit(name, path=()):
        if name in seen:
            return
        if name in path:
            raise RuntimeError(f"depends_on cycle through {name}")
        for dependency in services[name].get("depends_on", {}) or {}:
            visit(dependency, path + (name,))
        seen.add(name)
        order.append(name)

    for name in services:
        visit(name)
    return order


def wait_healthy(container, healthcheck):
    test = healthcheck["test"]
    command = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1] if test[0] == "CMD-SHELL" else test]
    interval = float(str(healthcheck.get("interval", "2s")).rstrip("s"))
    retries = int(healthcheck.get("retries", 15))
    for _ in range(retries):
        if podman("exec", container, *command, check=False, capture=True).returncode == 0:
            return
        time.sleep(interval)
    logs = podman("logs", container, check=False, capture=True)
    raise RuntimeError(f"{container} not healthy after {retries} checks; its output:\n{logs.stdout}{logs.stderr}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=os.path.join(ROOT, "docker-compose.yml"))
    parser.add_argument("--project", default="mxharness-compose")
    parser.add_argument("--base-image", help="sets MXHARNESS_BASE_IMAGE for the build args")
    parser.add_argument("--rmi", action="store_true", help="remove the images built as well")
    parser.add_argument("harness_args", nargs="*")
    options = parser.parse_args()

    environ = dict(os.environ)
    if options.base_image:
        environ["MXHARNESS_BASE_IMAGE"] = options.base_image
    with open(options.file) as f:
        compose = interpolate(yaml.safe_load(f), environ)
    services = compose["services"]
    for name, service in services.items():
        unknown = set(service) - SUPPORTED_SERVICE_KEYS
        if unknown:
            raise SystemExit(f"compose-up: service {name} uses {sorted(unknown)}, which this script does not implement")
    if len(compose["networks"]) != 1:
        raise SystemExit("compose-up: exactly one network expected")
    (network_key, network), = compose["networks"].items()
    network_name = f"{options.project}_{network_key}"
    base_dir = os.path.dirname(os.path.abspath(options.file))

    created_containers, created_network, images = [], False, []
    code = 1
    try:
        for name in start_order(services):
            service = services[name]
            build = service["build"]
            args = []
            for key, value in (build.get("args") or {}).items():
                args += ["--build-arg", f"{key}={value}"]
            log(f"building {service['image']}")
            # The build's RUN steps use the host's network (apt from the Debian mirror); the
            # compose network exists only at run time.
            podman("build", "--network", "host", "-q", "-f", os.path.join(base_dir, build["dockerfile"]),
                   *args, "-t", service["image"], os.path.join(base_dir, build["context"]))
            images.append(service["image"])

        subnet_args = ["--ipv6"] if network.get("enable_ipv6") else []
        for entry in network.get("ipam", {}).get("config", []):
            subnet_args += ["--subnet", entry["subnet"]]
        podman("network", "rm", "-f", network_name, check=False, capture=True)
        podman("network", "create", *subnet_args, network_name, capture=True)
        created_network = True
        log(f"network {network_name}: {' '.join(subnet_args)}")

        for name in start_order(services):
            service = services[name]
            container = f"{options.project}_{name}"
            podman("rm", "-f", container, check=False, capture=True)
            run = ["run", "-d", "--name", container, "--hostname", service.get("hostname", name)]
            addresses = (service.get("networks") or {}).get(network_key) or {}
            run += ["--network", network_name, "--network-alias", name]
            if "ipv4_address" in addresses:
                run += ["--ip", addresses["ipv4_address"]]
            if "ipv6_address" in addresses:
                run += ["--ip6", addresses["ipv6_address"]]
            for key, value in (service.get("environment") or {}).items():
                run += ["-e", f"{key}={value}"]
            if service.get("privileged"):
                run.append("--privileged")
            for volume in service.get("volumes", []):
                source, target, *mode = volume.split(":")
                source = os.path.normpath(os.path.join(base_dir, source))
                os.makedirs(source, exist_ok=True)
                run += ["-v", ":".join([source, target, *mode])]
            command = list(service.get("command", []))
            if name == "harness" and options.harness_args:
                command = options.harness_args
            run += [service["image"], *command]
            podman(*run, capture=True)
            created_containers.append(container)
            log(f"started {container} ({addresses.get('ipv6_address', '')} {addresses.get('ipv4_address', '')})")
            if "healthcheck" in service:
                wait_healthy(container, service["healthcheck"])
                log(f"{container} healthy")

        harness = f"{options.project}_harness"
        podman("logs", "-f", harness, check=False)
        waited = podman("wait", harness, capture=True)
        code = int(waited.stdout.strip().splitlines()[-1])
        for name in services:
            if name != "harness":
                log(f"--- output of {name} (last lines)")
                out = podman("logs", "--tail", "15", f"{options.project}_{name}", check=False, capture=True)
                sys.stderr.write(out.stdout + out.stderr)
        log(f"harness exited {code}")
    except (RuntimeError, KeyboardInterrupt) as error:
        log(f"failed: {error}")
    finally:
        for container in reversed(created_containers):
            podman("rm", "-f", "-t", "2", container, check=False, capture=True)
        if created_network:
            podman("network", "rm", "-f", network_name, check=False, capture=True)
        if options.rmi:
            for image in images:
                podman("rmi", "-f", image, check=False, capture=True)
    return code


if __name__ == "__main__":
    sys.exit(main())

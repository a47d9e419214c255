"""What we keep of a visitor's address: only the network part."""

from __future__ import annotations

import ipaddress


def truncate_ip(address: str | None, *, ipv6_prefix: int = 48) -> str:
    """Keep only the network part of an address: IPv4 /24, IPv6 /48."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)

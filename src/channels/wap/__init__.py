"""WAP push: SI/SL WBXML, WSP push PDU and WDP over SMS, PAP 2.0 to a push proxy gateway, and
direct mode (SI/SL as binary SMS over our SMPP client). PROTOCOLS.md §5."""

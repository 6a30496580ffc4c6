module acme.dev/shop

go 1.24.2

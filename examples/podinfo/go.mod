module example.com/podinfo

go 1.23

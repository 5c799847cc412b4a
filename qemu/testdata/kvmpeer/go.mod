module kvmpeer

go 1.26

from lambdabench.cli import main

main()

from interlink.cli import main

main()

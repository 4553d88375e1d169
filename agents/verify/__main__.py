from agents.verify.verifier import main

raise SystemExit(main())

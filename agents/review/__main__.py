from agents.review.cli import main

raise SystemExit(main())

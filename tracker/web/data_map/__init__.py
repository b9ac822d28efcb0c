"""The data map pages: processing activities, one activity, systems, the Art. 30 exports."""

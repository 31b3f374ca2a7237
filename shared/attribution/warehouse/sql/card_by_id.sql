SELECT card_json FROM model_cards WHERE card_id = @card_id
